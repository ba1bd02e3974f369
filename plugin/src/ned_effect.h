// One Emotion Director effect instance: reads its parameters, renders frames through ned-server,
// runs the Analyze and Train buttons, and turns every failure into an OFX status plus a message for
// the user.
#pragma once

#include <chrono>
#include <string>

#include "frame_codec.h"
#include "ned/v1/ned.pb.h"
#include "ofx/ofx_api.h"
#include "ofx/ofx_image.h"
#include "ofx/ofx_params.h"
#include "ofx/ofx_props.h"

namespace ned {

// The parameter values that drive one render or analysis.
struct EffectSettings {
  v1::EffectParams params;
  std::string server;        // host:port
  std::string shotName;      // the user's Shot parameter (may be empty)
  bool passThroughOnError = false;
};

class NedEffect {
 public:
  // Finds the clips and parameters and gives the instance its hidden id when it has none yet.
  explicit NedEffect(OfxImageEffectHandle handle);

  OfxStatus render(const ofx::PropertySet& inArgs);
  OfxStatus isIdentity(const ofx::PropertySet& inArgs, const ofx::PropertySet& outArgs);
  OfxStatus instanceChanged(const ofx::PropertySet& inArgs);

 private:
  struct RenderTarget;  // the images and geometry of one render (ned_render.cpp)

  NedEffect(OfxImageEffectHandle handle, OfxParamSetHandle params);

  // ned_render.cpp
  void editFrame(const RenderTarget& target, const EffectSettings& settings);
  // ned_analyze.cpp
  OfxStatus analyzeShot(const ofx::PropertySet& inArgs);
  OfxStatus streamShot(const EffectSettings& settings, double first, double last, double renderScale);
  // ned_train.cpp
  OfxStatus trainRenderer(const ofx::PropertySet& inArgs);
  OfxStatus streamTraining(const std::string& server, const std::string& shot, double budgetSeconds);
  // The shot id for the Source clip's full-resolution size at `time`, from its region of definition
  // (a button press has no image at hand).
  std::string sourceShotId(const std::string& shotName, OfxTime time) const;

  EffectSettings settingsAt(OfxTime time) const;
  // The Source clip's frame rate (frames per second), 0 when the host does not say (the server
  // then assumes 25): the server smooths over time in seconds, while OFX times are frames.
  double sourceFrameRate() const;
  // The shot's id on the server: the Shot parameter, else the instance id, plus "@WxH" of the
  // full-resolution frame so that clips of different sizes never share an analysis.
  std::string shotId(const std::string& shotName, int fullWidth, int fullHeight) const;
  void setStatus(const std::string& text);
  // Reports a failure as an error (or, for pass-through, a warning); deduplicated per instance.
  void report(const char* messageType, const std::string& text);
  void clearReport();

  OfxImageEffectHandle handle_;
  ofx::Clip source_;
  ofx::Clip output_;
  ofx::Param emotion_, intensity_, mouth_, face_, renderer_, feather_;
  ofx::Param server_, shot_, trainMinutes_, onError_, status_, instanceId_;
  std::string fallbackInstanceId_;  // used when the host keeps no value in instanceId_
  std::string lastStatus_;
  std::string lastReport_;
};

// Converts a fetched OFX image into a view; throws ofx::OfxError(kStatErrUnsupported) for anything
// that is not RGBA Byte/Short/Float.
ImageView imageViewOf(const ofx::ClipImage& image, const char* clipName);

// Deadline of a RenderFrame call: NED_RENDER_TIMEOUT_MS if set, else 120 s for a shot's first call
// (the server may load models and analyse online) and 60 s after that.
std::chrono::milliseconds renderTimeout(bool firstCallOfShot);

}  // namespace ned
