#include "ned_effect.h"

#include <cmath>
#include <optional>
#include <random>

#include "ned_client.h"
#include "ned_ids.h"
#include "ofx/ofx_host.h"
#include "ofx/ofx_messages.h"

namespace ned {
namespace {

OfxParamSetHandle paramSetOf(OfxImageEffectHandle handle) {
  OfxParamSetHandle paramSet = nullptr;
  ofx::check(ofx::suites().imageEffect->getParamSet(handle, &paramSet), "reading the parameter set");
  return paramSet;
}

std::string randomId() {
  std::random_device device;
  std::uniform_int_distribution<unsigned long long> bits;
  const unsigned long long value = bits(device);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "fx-";
  for (int shift = 60; shift >= 0; shift -= 4) {
    id += kHex[(value >> shift) & 0xf];
  }
  return id;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return std::string();
  }
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

int choiceAt(const ofx::Param& param, OfxTime time, int optionCount) {
  const int index = param.intAt(time);
  if (index < 0 || index >= optionCount) {
    throw ofx::OfxError(ofx::kStatErrValue, std::string("parameter ") + param.name() + " has no option " +
                                                std::to_string(index));
  }
  return index;
}

}  // namespace

NedEffect::NedEffect(OfxImageEffectHandle handle) : NedEffect(handle, paramSetOf(handle)) {}

NedEffect::NedEffect(OfxImageEffectHandle handle, OfxParamSetHandle params)
    : handle_(handle),
      source_(handle, kClipSource),
      output_(handle, kClipOutput),
      emotion_(params, kParamEmotion),
      intensity_(params, kParamIntensity),
      mouth_(params, kParamMouth),
      face_(params, kParamFace),
      renderer_(params, kParamRenderer),
      feather_(params, kParamFeather),
      server_(params, kParamServer),
      shot_(params, kParamShot),
      trainMinutes_(params, kParamTrainMinutes),
      onError_(params, kParamOnError),
      status_(params, kParamStatus),
      instanceId_(params, kParamInstanceId),
      fallbackInstanceId_(randomId()) {
  // Hosts that save projects restore this value, so a reopened project finds its analysis again.
  if (instanceId_.string().empty()) {
    instanceId_.setString(fallbackInstanceId_);
  }
}

EffectSettings NedEffect::settingsAt(OfxTime time) const {
  EffectSettings settings;
  v1::EffectParams& p = settings.params;
  p.set_emotion(static_cast<v1::Emotion>(choiceAt(emotion_, time, static_cast<int>(kEmotionOptions.size()))));
  p.set_intensity(intensity_.doubleAt(time));
  p.set_mouth_preservation(mouth_.doubleAt(time));
  p.set_face_index(face_.intAt(time));
  const int renderer = choiceAt(renderer_, time, static_cast<int>(kRendererOptions.size()));
  p.set_renderer(static_cast<v1::Renderer>(v1::RENDERER_WARP + renderer));
  p.set_feather(feather_.doubleAt(time));
  settings.server = trimmed(server_.string());
  if (settings.server.empty()) {
    settings.server = kDefaultServer;
  }
  settings.shotName = trimmed(shot_.string());
  settings.passThroughOnError =
      choiceAt(onError_, time, static_cast<int>(kOnErrorOptions.size())) == kOnErrorPassThrough;
  return settings;
}

double NedEffect::sourceFrameRate() const {
  const std::optional<double> rate = source_.properties().findDouble(ofx::kEffectPropFrameRate);
  return rate && *rate > 0.0 && *rate < 1000.0 ? *rate : 0.0;
}

std::string NedEffect::shotId(const std::string& shotName, int fullWidth, int fullHeight) const {
  std::string base = shotName;
  if (base.empty()) {
    base = instanceId_.string();
  }
  if (base.empty()) {
    base = fallbackInstanceId_;
  }
  return base + "@" + std::to_string(fullWidth) + "x" + std::to_string(fullHeight);
}

std::string NedEffect::sourceShotId(const std::string& shotName, OfxTime time) const {
  const OfxRectD rod = source_.regionOfDefinition(time);
  const double pixelAspect = source_.properties().findDouble(ofx::kImagePropPixelAspectRatio).value_or(1.0);
  const int width = static_cast<int>(std::lround((rod.x2 - rod.x1) / (pixelAspect > 0.0 ? pixelAspect : 1.0)));
  const int height = static_cast<int>(std::lround(rod.y2 - rod.y1));
  if (width <= 0 || height <= 0) {
    throw ofx::OfxError(ofx::kStatFailed, "the host reports an empty Source clip, so the shot's frame size is unknown");
  }
  return shotId(shotName, width, height);
}

void NedEffect::setStatus(const std::string& text) {
  // Only on change: some hosts record every parameter write.
  if (text != lastStatus_ && status_.setString(text)) {
    lastStatus_ = text;
  }
}

void NedEffect::report(const char* messageType, const std::string& text) {
  setStatus(text);
  const std::string message = std::string(kPluginLabel) + ": " + text;
  // One message per distinct failure, not one per frame of a long render.
  if (message != lastReport_) {
    ofx::postMessage(handle_, messageType, message);
    lastReport_ = message;
  }
}

void NedEffect::clearReport() {
  if (!lastReport_.empty()) {
    ofx::clearPersistentMessage(handle_);
    lastReport_.clear();
  }
}

OfxStatus NedEffect::isIdentity(const ofx::PropertySet& inArgs, const ofx::PropertySet& outArgs) {
  const OfxTime time = inArgs.getDouble(ofx::kPropTime);
  const int renderer = renderer_.intAt(time);
  const bool edits = renderer == kRendererWarp || renderer == kRendererNeural;
  if (edits && intensity_.doubleAt(time) == 0.0) {
    outArgs.setString(ofx::kPropName, kClipSource);
    outArgs.setDouble(ofx::kPropTime, time);
    return ofx::kStatOK;
  }
  return ofx::kStatReplyDefault;
}

OfxStatus NedEffect::instanceChanged(const ofx::PropertySet& inArgs) {
  const bool userEditedParam = inArgs.findString(ofx::kPropType) == std::string(ofx::kTypeParameter) &&
                               inArgs.findString(ofx::kPropChangeReason) == std::string(ofx::kChangeUserEdited);
  const std::optional<std::string> name = inArgs.findString(ofx::kPropName);
  if (userEditedParam && name == std::string(kParamAnalyze)) {
    return analyzeShot(inArgs);
  }
  if (userEditedParam && name == std::string(kParamTrain)) {
    return trainRenderer(inArgs);
  }
  return ofx::kStatReplyDefault;
}

ImageView imageViewOf(const ofx::ClipImage& image, const char* clipName) {
  const ofx::PropertySet props = image.properties();
  const std::string components = props.getString(ofx::kEffectPropComponents);
  const std::string depth = props.getString(ofx::kEffectPropPixelDepth);
  ImageView view;
  const bool known = depth == ofx::kBitDepthByte || depth == ofx::kBitDepthShort || depth == ofx::kBitDepthFloat;
  if (components != ofx::kComponentRGBA || !known) {
    throw ofx::OfxError(ofx::kStatErrUnsupported, std::string("the ") + clipName + " image is " + components + " " +
                                                      depth + "; only RGBA Byte, Short or Float is supported");
  }
  view.depth = depth == ofx::kBitDepthByte    ? PixelDepth::Byte
               : depth == ofx::kBitDepthShort ? PixelDepth::Short
                                              : PixelDepth::Float;
  const std::array<int, 4> bounds = props.getRect(ofx::kImagePropBounds);
  view.bounds = PixelRect{bounds[0], bounds[1], bounds[2], bounds[3]};
  view.rowBytes = props.getInt(ofx::kImagePropRowBytes);
  view.origin = static_cast<unsigned char*>(props.getPointer(ofx::kImagePropData));
  if (view.origin == nullptr && !view.bounds.empty()) {
    throw ofx::OfxError(ofx::kStatFailed, std::string("the ") + clipName + " image has no pixel data");
  }
  return view;
}

std::chrono::milliseconds renderTimeout(bool firstCallOfShot) {
  return timeoutFromEnv("NED_RENDER_TIMEOUT_MS", firstCallOfShot ? std::chrono::seconds(120) : std::chrono::seconds(60));
}

}  // namespace ned
