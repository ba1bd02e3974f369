// NedEffect::analyzeShot: the Analyze button. Streams every frame of the Source clip to the
// server's AnalyzeShot, shows its progress, and lets the user cancel. With Renderer = neural the
// server also keeps the face crops that Train neural renderer needs (ned_train.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "ned_client.h"
#include "ned_effect.h"
#include "ned_ids.h"
#include "ofx/ofx_host.h"
#include "ofx/ofx_messages.h"
#include "proto_frames.h"
#include "shot_cache.h"

namespace ned {
namespace {

constexpr std::chrono::seconds kShotInfoTimeout{15};
constexpr std::chrono::milliseconds kProgressPoll{100};

struct FrameRange {
  double first = 0.0;
  double last = 0.0;
};

// The Source clip's frame range, when the host lets the plugin fetch other frames.
std::optional<FrameRange> analysableRange(const ofx::Clip& source) {
  const ofx::PropertySet host(ofx::suites().host->host);
  if (host.findInt(ofx::kEffectPropTemporalClipAccess).value_or(0) != 1) {
    return std::nullopt;
  }
  const ofx::PropertySet clip = source.properties();
  const auto first = clip.findDouble(ofx::kEffectPropFrameRange, 0);
  const auto last = clip.findDouble(ofx::kEffectPropFrameRange, 1);
  if (!first || !last || *last < *first) {
    return std::nullopt;
  }
  return FrameRange{*first, *last};
}

// NED_ANALYZE_TIMEOUT_MS if set, else 5 minutes plus 5 s per frame.
std::chrono::milliseconds analyzeTimeout(int frames) {
  return timeoutFromEnv("NED_ANALYZE_TIMEOUT_MS", std::chrono::seconds(300) + std::chrono::seconds(5) * frames);
}

// What the progress bar shows: half for frames sent, half for frames the server has analysed (it
// lags behind what was sent), never moving backwards.
double shownFraction(const AnalyzeCall::Progress& progress, double sentFraction, double shownBefore) {
  const double analysed =
      progress.received && progress.latest.total_frames() > 0 ? progress.latest.fraction() : 0.0;
  return std::max(shownBefore, std::min(1.0, 0.5 * sentFraction + 0.5 * analysed));
}

class Cancelled : public std::exception {};

}  // namespace

OfxStatus NedEffect::analyzeShot(const ofx::PropertySet& inArgs) {
  const std::optional<FrameRange> range = analysableRange(source_);
  if (!range) {
    const std::string text = "this host gives the effect no access to other frames, so the shot is analysed "
                             "online while it renders";
    setStatus(text);
    ofx::postMessage(handle_, ofx::kMessageMessage, std::string(kPluginLabel) + ": " + text);
    return ofx::kStatOK;
  }
  const EffectSettings settings = settingsAt(inArgs.findDouble(ofx::kPropTime).value_or(range->first));
  clearReport();  // a press is a new request: its failure is shown even when it repeats the last one
  const double scale = inArgs.findDouble(ofx::kEffectPropRenderScale, 0).value_or(1.0);
  try {
    return streamShot(settings, range->first, range->last, scale > 0.0 ? scale : 1.0);
  } catch (const Cancelled&) {
    setStatus("analysis cancelled");
    ofx::postMessage(handle_, ofx::kMessageMessage, std::string(kPluginLabel) + ": analysis cancelled");
    return ofx::kStatOK;
  } catch (const std::exception& e) {
    report(ofx::kMessageError, std::string("analysis failed: ") + e.what());
    return ofx::kStatFailed;
  }
}

OfxStatus NedEffect::streamShot(const EffectSettings& settings, double first, double last, double renderScale) {
  const int total = static_cast<int>(std::floor(last - first)) + 1;
  // Face crops for training cost the server disk: kept only when the user chose the neural renderer.
  const bool keepTrainingFrames = settings.params.renderer() == v1::RENDERER_NEURAL;
  NedClient client(settings.server);
  ofx::Progress progress(handle_, "Emotion Director: analysing the shot");
  const std::unique_ptr<AnalyzeCall> call = client.analyzeShot(analyzeTimeout(total));
  double shown = 0.0;
  const auto keepGoing = [&](double sentFraction, std::chrono::milliseconds wait) {
    shown = shownFraction(call->waitForProgress(wait), sentFraction, shown);
    if (!progress.update(shown)) {
      call->cancel();
      throw Cancelled();
    }
  };
  std::string shot;
  for (int i = 0; i < total; ++i) {
    const double time = first + i;
    const ofx::ClipImage image(source_, time);
    const ImageView view = imageViewOf(image, kClipSource);
    const double pixelAspect = image.properties().findDouble(ofx::kImagePropPixelAspectRatio).value_or(1.0);
    v1::AnalyzeShotRequest request;
    if (i == 0) {
      shot = shotId(settings.shotName, static_cast<int>(std::lround(view.bounds.width() / renderScale)),
                    static_cast<int>(std::lround(view.bounds.height() / renderScale)));
      request.set_shot_id(shot);
      request.set_total_frames(total);
      request.set_replace(true);
      request.set_frame_rate(sourceFrameRate());
      request.set_keep_training_frames(keepTrainingFrames);
    }
    request.set_time(time);
    fillFrameRegion(*request.mutable_frame(), view, view.bounds,
                    FrameRect{0, 0, view.bounds.width(), view.bounds.height()}, renderScale,
                    pixelAspect > 0.0 ? pixelAspect : 1.0);
    if (!call->write(request)) {
      break;  // the server ended the call; finish() says why
    }
    keepGoing(static_cast<double>(i + 1) / total, std::chrono::milliseconds(0));
  }
  call->closeWrites();
  while (!call->waitForProgress(std::chrono::milliseconds(0)).ended) {
    keepGoing(1.0, kProgressPoll);
  }
  const v1::ShotInfo info = call->finish().shot();
  ShotCache::global().storeRegions(shot, client.getShot(shot, true, kShotInfoTimeout));
  clearReport();
  setStatus("analysed " + std::to_string(info.frames_analysed()) + " frames, " + std::to_string(info.faces_size()) +
            " face(s)" + (keepTrainingFrames ? "; face crops kept: Train neural renderer can run now" : ""));
  return ofx::kStatOK;
}

}  // namespace ned
