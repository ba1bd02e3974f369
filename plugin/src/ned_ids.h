// Identity of the Emotion Director effect and every clip and parameter name, defined once.
// Parameter names are what hosts store and what melt's command line uses (`emotion=sad`).
#pragma once

#include <array>

namespace ned {

inline constexpr const char* kPluginIdentifier = "org.ned.EmotionDirector";
inline constexpr unsigned kPluginVersionMajor = 0;
inline constexpr unsigned kPluginVersionMinor = 1;
inline constexpr const char* kPluginVersionLabel = "0.1";
inline constexpr const char* kPluginLabel = "Emotion Director";
inline constexpr const char* kPluginGrouping = "Emotion Director";
inline constexpr const char* kPluginDescription =
    "Changes the emotion an actor shows while the lips keep the spoken words (rendered by ned-server).";

inline constexpr const char* kClipSource = "Source";
inline constexpr const char* kClipOutput = "Output";

inline constexpr const char* kParamEmotion = "emotion";
inline constexpr const char* kParamIntensity = "intensity";
inline constexpr const char* kParamMouth = "mouth";
inline constexpr const char* kParamFace = "face";
inline constexpr const char* kParamRenderer = "renderer";
inline constexpr const char* kParamFeather = "feather";
inline constexpr const char* kParamServer = "server";
inline constexpr const char* kParamShot = "shot";
inline constexpr const char* kParamAnalyze = "analyze";
inline constexpr const char* kParamTrain = "train";
inline constexpr const char* kParamTrainMinutes = "trainMinutes";
inline constexpr const char* kParamOnError = "onError";
inline constexpr const char* kParamStatus = "status";
inline constexpr const char* kParamInstanceId = "instanceId";
inline constexpr const char* kPageControls = "controls";

// Choice options. Emotion option index == proto ned.v1.Emotion value (NED label order).
inline constexpr std::array<const char*, 7> kEmotionOptions = {"neutral", "angry",     "disgusted", "fearful",
                                                               "happy",   "sad",       "surprised"};
inline constexpr int kEmotionDefault = 4;  // happy

// Renderer option index i maps to proto ned.v1.Renderer value i + 1 (RENDERER_WARP = 1).
inline constexpr std::array<const char*, 4> kRendererOptions = {"warp", "neural", "passthrough", "debug"};
inline constexpr int kRendererWarp = 0;
inline constexpr int kRendererNeural = 1;

inline constexpr std::array<const char*, 2> kOnErrorOptions = {"fail render", "pass through with a warning"};
inline constexpr int kOnErrorFail = 0;
inline constexpr int kOnErrorPassThrough = 1;

inline constexpr const char* kDefaultServer = "127.0.0.1:50051";

// Training budget of the neural renderer, in minutes: 15 is the server's CPU default (5 on a GPU).
// The minimum gives a rough renderer for a quick look; 0 (the server's own default) is not offered,
// so the budget that runs is always the one the user sees.
inline constexpr double kTrainMinutesDefault = 15.0;
inline constexpr double kTrainMinutesMin = 0.25;
inline constexpr double kTrainMinutesMax = 240.0;

}  // namespace ned
