#include "ned_factory.h"

#include <climits>
#include <string>

#include "ned_ids.h"
#include "ofx/ofx_host.h"
#include "ofx/ofx_params.h"
#include "ofx/ofx_props.h"

namespace ned {
namespace {

using ofx::PropertySet;

template <std::size_t N>
void setOptions(const PropertySet& props, const std::array<const char*, N>& options) {
  for (std::size_t i = 0; i < N; ++i) {
    props.setString(ofx::kParamPropChoiceOption, options[i], static_cast<int>(i));
  }
}

struct DoubleSpec {
  const char* name;
  const char* label;
  const char* hint;
  double defaultValue, min, max;
};

PropertySet defineDouble(const ofx::ParamSetDescriptor& params, const DoubleSpec& spec) {
  const PropertySet p = params.define(ofx::kParamTypeDouble, spec.name, spec.label, spec.hint);
  p.setDouble(ofx::kParamPropDefault, spec.defaultValue);
  p.setDouble(ofx::kParamPropMin, spec.min);
  p.setDouble(ofx::kParamPropMax, spec.max);
  p.setDouble(ofx::kParamPropDisplayMin, spec.min);
  p.setDouble(ofx::kParamPropDisplayMax, spec.max);
  p.setDouble(ofx::kParamPropIncrement, 0.05);
  p.setInt(ofx::kParamPropDigits, 2);
  p.setInt(ofx::kParamPropAnimates, 1);
  return p;
}

// A string the plugin writes: not animated, no undo entry, no re-render when it changes.
PropertySet definePluginWrittenString(const ofx::ParamSetDescriptor& params, const char* name, const char* label,
                                      const char* hint) {
  const PropertySet p = params.define(ofx::kParamTypeString, name, label, hint);
  p.setString(ofx::kParamPropDefault, "");
  p.setInt(ofx::kParamPropAnimates, 0);
  p.setInt(ofx::kParamPropEvaluateOnChange, 0);
  p.setInt(ofx::kParamPropCanUndo, 0);
  return p;
}

void defineEditParams(const ofx::ParamSetDescriptor& params) {
  PropertySet p = params.define(ofx::kParamTypeChoice, kParamEmotion, "Emotion", "The emotion the actor shows.");
  setOptions(p, kEmotionOptions);
  p.setInt(ofx::kParamPropDefault, kEmotionDefault);
  p.setInt(ofx::kParamPropAnimates, 1);

  defineDouble(params, {kParamIntensity, "Intensity",
                        "How strongly the emotion shows: 0 = the source, 1 = clear but natural, about 1.33 = "
                        "acted, up to 1.5.",
                        1.0, 0.0, 1.5});
  defineDouble(params, {kParamMouth, "Mouth preservation",
                        "1 = lip opening and jaw follow the source's speech exactly; 0 = free.", 1.0, 0.0, 1.0});

  p = params.define(ofx::kParamTypeInteger, kParamFace, "Face",
                    "Which face to edit: 0 = the largest face of the shot, 1 the next, ...");
  p.setInt(ofx::kParamPropDefault, 0);
  p.setInt(ofx::kParamPropMin, 0);
  p.setInt(ofx::kParamPropMax, INT_MAX);
  p.setInt(ofx::kParamPropDisplayMin, 0);
  p.setInt(ofx::kParamPropDisplayMax, 8);
  p.setInt(ofx::kParamPropAnimates, 0);

  p = params.define(ofx::kParamTypeChoice, kParamRenderer, "Renderer",
                    "warp: move the source's own pixels; neural: the shot's trained renderer (select it, press "
                    "Analyze shot, then Train neural renderer); passthrough: return the face unedited; debug: "
                    "overlay the tracked mesh.");
  setOptions(p, kRendererOptions);
  p.setInt(ofx::kParamPropDefault, kRendererWarp);
  p.setInt(ofx::kParamPropAnimates, 0);

  defineDouble(params, {kParamFeather, "Edge feather", "Softness of the face mask's edge, as a fraction of the face size.",
                        0.3, 0.0, 1.0});
}

// In hosts without buttons (MLT's melt) the shot is trained outside, e.g. with the Python client,
// under the id the plugin uses: the Shot parameter plus "@<width>x<height>" of the full frame.
void defineTrainingParams(const ofx::ParamSetDescriptor& params) {
  const PropertySet p = defineDouble(
      params, {kParamTrainMinutes, "Training minutes",
               "Time budget of one Train neural renderer run, in minutes (the server's defaults: 15 on a CPU, 5 "
               "on a GPU); a fraction of a minute gives a rough renderer for a quick look. Preparation, the "
               "final validation and the export come on top.",
               kTrainMinutesDefault, kTrainMinutesMin, kTrainMinutesMax});
  p.setDouble(ofx::kParamPropDisplayMax, 60.0);
  p.setDouble(ofx::kParamPropIncrement, 1.0);
  p.setInt(ofx::kParamPropAnimates, 0);

  params.define(ofx::kParamTypePushButton, kParamTrain, "Train neural renderer",
                "Train this shot's neural face renderer on the server for Training minutes (press Analyze shot "
                "with Renderer = neural first). Pressing it again continues from the last checkpoint. In hosts "
                "without buttons (MLT), train with ned-server's client under the shot id Shot@WIDTHxHEIGHT.");
}

void defineSessionParams(const ofx::ParamSetDescriptor& params) {
  PropertySet p = params.define(ofx::kParamTypeString, kParamServer, "Server",
                                "Address of ned-server, host:port (start it with: ned-server --listen ADDRESS).");
  p.setString(ofx::kParamPropDefault, kDefaultServer);
  p.setString(ofx::kParamPropStringMode, ofx::kParamStringIsSingleLine);
  p.setInt(ofx::kParamPropAnimates, 0);

  p = params.define(ofx::kParamTypeString, kParamShot, "Shot",
                    "Name of the shot's analysis on the server; empty = this effect instance's own.");
  p.setString(ofx::kParamPropDefault, "");
  p.setString(ofx::kParamPropStringMode, ofx::kParamStringIsSingleLine);
  p.setInt(ofx::kParamPropAnimates, 0);

  params.define(ofx::kParamTypePushButton, kParamAnalyze, "Analyze shot",
                "Track the face over the whole clip now (smoother than the analysis done while rendering). With "
                "Renderer = neural the server also keeps face crops (about 200 KB a frame) to train the shot's "
                "neural renderer.");
  defineTrainingParams(params);

  p = params.define(ofx::kParamTypeChoice, kParamOnError, "On error",
                    "What a render does when the server fails: fail the render, or keep the source frame and "
                    "warn.");
  setOptions(p, kOnErrorOptions);
  p.setInt(ofx::kParamPropDefault, kOnErrorFail);
  p.setInt(ofx::kParamPropAnimates, 0);

  p = definePluginWrittenString(params, kParamStatus, "Status", "What happened at the last render or analysis.");
  p.setString(ofx::kParamPropStringMode, ofx::kParamStringIsLabel);
  p.setInt(ofx::kParamPropPersistant, 0);

  p = definePluginWrittenString(params, kParamInstanceId, "Instance id",
                                "Identifies this effect's shot analysis on the server.");
  p.setInt(ofx::kParamPropSecret, 1);
}

void definePage(const ofx::ParamSetDescriptor& params) {
  const PropertySet page = params.define(ofx::kParamTypePage, kPageControls, "Controls", "Emotion Director");
  page.setStrings(ofx::kParamPropPageChild, {kParamEmotion, kParamIntensity, kParamMouth, kParamFace, kParamRenderer,
                                             kParamFeather, kParamServer, kParamShot, kParamAnalyze, kParamTrainMinutes,
                                             kParamTrain, kParamOnError, kParamStatus});
}

void defineClip(OfxImageEffectHandle descriptor, const char* name) {
  OfxPropertySetHandle handle = nullptr;
  ofx::check(ofx::suites().imageEffect->clipDefine(descriptor, name, &handle), std::string("defining clip ") + name);
  const PropertySet clip(handle);
  clip.setString(ofx::kEffectPropSupportedComponents, ofx::kComponentRGBA);
  clip.setInt(ofx::kEffectPropSupportsTiles, 0);
  clip.setInt(ofx::kEffectPropTemporalClipAccess, 1);
}

}  // namespace

OfxStatus describe(OfxImageEffectHandle descriptor) {
  OfxPropertySetHandle handle = nullptr;
  ofx::check(ofx::suites().imageEffect->getPropertySet(descriptor, &handle), "reading the effect descriptor");
  const PropertySet effect(handle);
  effect.setString(ofx::kPropLabel, kPluginLabel);
  effect.setString(ofx::kEffectPropGrouping, kPluginGrouping);
  effect.setString(ofx::kPropPluginDescription, kPluginDescription);
  effect.setInts(ofx::kPropVersion, {static_cast<int>(kPluginVersionMajor), static_cast<int>(kPluginVersionMinor)});
  effect.setString(ofx::kPropVersionLabel, kPluginVersionLabel);
  effect.setStrings(ofx::kEffectPropSupportedContexts, {ofx::kEffectContextFilter, ofx::kEffectContextGeneral});
  effect.setStrings(ofx::kEffectPropSupportedPixelDepths,
                    {ofx::kBitDepthByte, ofx::kBitDepthShort, ofx::kBitDepthFloat});
  effect.setInt(ofx::kEffectPropSupportsTiles, 0);
  effect.setInt(ofx::kEffectPropSupportsMultiResolution, 0);
  effect.setInt(ofx::kEffectPropSupportsMultipleClipDepths, 0);
  effect.setInt(ofx::kEffectPropTemporalClipAccess, 1);
  // One persistent instance with serialized renders: the shot id stays stable through a render.
  effect.setString(ofx::kEffectPropRenderThreadSafety, ofx::kRenderUnsafe);
  effect.setInt(ofx::kEffectPropHostFrameThreading, 0);
  return ofx::kStatOK;
}

OfxStatus describeInContext(OfxImageEffectHandle descriptor, OfxPropertySetHandle /*inArgs*/) {
  defineClip(descriptor, kClipSource);
  defineClip(descriptor, kClipOutput);
  OfxParamSetHandle paramSet = nullptr;
  ofx::check(ofx::suites().imageEffect->getParamSet(descriptor, &paramSet), "reading the parameter set");
  const ofx::ParamSetDescriptor params(paramSet);
  defineEditParams(params);
  defineSessionParams(params);
  definePage(params);
  return ofx::kStatOK;
}

}  // namespace ned
