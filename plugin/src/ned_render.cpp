// NedEffect::render: copy the source, send the face's part of the frame to ned-server, paste the
// patch it returns. With a server on this machine the pixels go both ways through shared memory
// (shared_memory.h), else inline in the messages; the bytes are the same either way.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <system_error>

#include "ned_client.h"
#include "ned_effect.h"
#include "ned_ids.h"
#include "ofx/ofx_host.h"
#include "ofx/ofx_messages.h"
#include "proto_frames.h"
#include "shared_memory.h"
#include "shot_cache.h"

namespace ned {
namespace {

constexpr std::chrono::seconds kShotInfoTimeout{15};

std::string frameLabel(OfxTime time) {
  char text[32];
  std::snprintf(text, sizeof(text), "frame %g", time);
  return text;
}

double positiveOr(std::optional<double> value, double fallback) {
  return value && *value > 0.0 ? *value : fallback;
}

// NED_PLUGIN_TRACE=1 prints one timing line per render to stderr (for benchmarks).
bool tracing() {
  static const bool enabled = std::getenv("NED_PLUGIN_TRACE") != nullptr;
  return enabled;
}

// Fills the request's frame: into the given segment, or inline when it is null.
using FillFrame = std::function<void(const SharedSegment*)>;

// Sends `request` with its `bytes` of pixels in this thread's shared segments when the server can
// map them, else inline; `replyBuffer` is set to the segment the patch may come back in (null:
// inline). A request the server rejects (INVALID_ARGUMENT) in shared memory but accepts inline
// means it cannot see our segments (another /dev/shm): that server gets inline bytes from then on.
v1::RenderFrameResponse sendFrame(NedClient& client, v1::RenderFrameRequest& request, std::size_t bytes,
                                  const FillFrame& fill, std::chrono::milliseconds timeout,
                                  const SharedSegment*& replyBuffer) {
  replyBuffer = nullptr;
  if (client.acceptsSharedMemory(kShotInfoTimeout)) {
    try {
      SharedSegment& pixels = threadRequestSegment(bytes);
      SharedSegment& reply = threadReplySegment(bytes);
      fill(&pixels);
      v1::SharedBuffer& buffer = *request.mutable_reply_buffer();
      buffer.set_name(reply.name());
      buffer.set_offset(0);
      buffer.set_size(reply.size());
      replyBuffer = &reply;
    } catch (const std::system_error&) {
      request.clear_reply_buffer();  // no segment to be had (e.g. /dev/shm full): inline this time
    }
  }
  if (replyBuffer == nullptr) {
    fill(nullptr);
    return client.renderFrame(request, timeout);
  }
  try {
    return client.renderFrame(request, timeout);
  } catch (const ServerError& e) {
    if (e.code() != grpc::StatusCode::INVALID_ARGUMENT) {
      throw;
    }
    replyBuffer = nullptr;
    request.clear_reply_buffer();
    fill(nullptr);
    v1::RenderFrameResponse reply = client.renderFrame(request, timeout);  // an inline failure is the real one
    client.refuseSharedMemory();
    return reply;
  }
}

}  // namespace

struct NedEffect::RenderTarget {
  OfxTime time = 0.0;
  PixelRect window;      // where this render writes, OFX pixel coordinates
  PixelRect frame;       // the full frame (the source image's bounds)
  double scaleX = 1.0;   // host render scale
  double scaleY = 1.0;
  double pixelAspect = 1.0;
  ImageView source;
  ImageView output;
};

OfxStatus NedEffect::render(const ofx::PropertySet& inArgs) {
  try {
    RenderTarget target;
    target.time = inArgs.getDouble(ofx::kPropTime);
    const std::array<int, 4> window = inArgs.getRect(ofx::kEffectPropRenderWindow);
    target.window = PixelRect{window[0], window[1], window[2], window[3]};
    target.scaleX = positiveOr(inArgs.findDouble(ofx::kEffectPropRenderScale, 0), 1.0);
    target.scaleY = positiveOr(inArgs.findDouble(ofx::kEffectPropRenderScale, 1), target.scaleX);
    const ofx::ClipImage source(source_, target.time);
    const ofx::ClipImage output(output_, target.time);
    target.source = imageViewOf(source, kClipSource);
    target.output = imageViewOf(output, kClipOutput);
    if (target.source.depth != target.output.depth) {
      throw ofx::OfxError(ofx::kStatErrUnsupported, "the Source and Output images have different pixel depths");
    }
    target.pixelAspect = positiveOr(source.properties().findDouble(ofx::kImagePropPixelAspectRatio), 1.0);
    target.frame = target.source.bounds;
    copyWindow(target.source, target.output, target.window);

    const EffectSettings settings = settingsAt(target.time);
    const v1::Renderer renderer = settings.params.renderer();
    if (settings.params.intensity() == 0.0 && (renderer == v1::RENDERER_WARP || renderer == v1::RENDERER_NEURAL)) {
      setStatus(frameLabel(target.time) + ": intensity 0, source unchanged");
      clearReport();
      return ofx::kStatOK;
    }
    try {
      editFrame(target, settings);
    } catch (const std::exception& e) {
      const bool malformed = dynamic_cast<const std::invalid_argument*>(&e) != nullptr;
      const std::string text = malformed ? "server " + settings.server + " returned an unusable patch: " + e.what()
                                         : std::string(e.what());
      if (settings.passThroughOnError) {
        report(ofx::kMessageWarning, text + " (source frame passed through)");
        return ofx::kStatOK;
      }
      report(ofx::kMessageError, text);
      return ofx::kStatFailed;
    }
    clearReport();
    return ofx::kStatOK;
  } catch (const ofx::OfxError& e) {
    report(ofx::kMessageError, e.what());
    return e.status();
  }
}

void NedEffect::editFrame(const RenderTarget& target, const EffectSettings& settings) {
  const int width = target.frame.width();
  const int height = target.frame.height();
  const std::string shot = shotId(settings.shotName, static_cast<int>(std::lround(width / target.scaleX)),
                                  static_cast<int>(std::lround(height / target.scaleY)));
  NedClient client(settings.server);
  ShotCache& cache = ShotCache::global();
  if (!cache.hasRegions(shot)) {
    cache.storeRegions(shot, client.getShot(shot, true, kShotInfoTimeout));
  }
  FrameRect region{0, 0, width, height};
  if (const auto known = cache.region(shot, target.time, settings.params.face_index())) {
    const FrameRect scaled = scaleToFrame(*known, target.scaleX, target.scaleY, width, height);
    if (!scaled.empty()) {
      region = scaled;
    }
  }

  v1::RenderFrameRequest request;
  request.set_shot_id(shot);
  request.set_time(target.time);
  request.set_frame_rate(sourceFrameRate());
  *request.mutable_params() = settings.params;
  const FillFrame fill = [&](const SharedSegment* segment) {
    fillFrameRegion(*request.mutable_frame(), target.source, target.frame, region, target.scaleX, target.pixelAspect,
                    segment);
  };
  const std::size_t bytes = packedSize(toPixelRect(region, target.frame), target.source.depth);
  const SharedSegment* replyBuffer = nullptr;
  const auto started = std::chrono::steady_clock::now();
  const v1::RenderFrameResponse reply =
      sendFrame(client, request, bytes, fill, renderTimeout(cache.isFirstRender(shot)), replyBuffer);
  const double roundTripMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  cache.markRendered(shot);
  const bool faceFound = pastePatch(reply, target.output, target.frame, target.window, replyBuffer);

  const v1::Diagnostics& diagnostics = reply.diagnostics();
  // Frames analysed during this very call change the revision every frame; regions are fetched
  // again only when the analysis changed otherwise (an Analyze run, another client).
  if (diagnostics.shot_revision() != cache.revision(shot) && !diagnostics.analysed_online()) {
    cache.storeRegions(shot, client.getShot(shot, true, kShotInfoTimeout));
  }
  char timing[96];
  std::snprintf(timing, sizeof(timing), " (round trip %.0f ms, server %.0f ms)", roundTripMs,
                diagnostics.server_ms());
  const std::string outcome =
      faceFound ? ": face " + std::to_string(settings.params.face_index()) + " edited" : ": no face found, source kept";
  std::string status = frameLabel(target.time) + outcome + timing;
  if (diagnostics.warnings_size() > 0) {
    status += "; server warning: " + diagnostics.warnings(0);
  }
  setStatus(status);
  if (tracing()) {
    const auto render = diagnostics.stage_ms().find("render");
    std::fprintf(stderr,
                 "[EmotionDirector] t=%g frame=%dx%d sent=%dx%d+%d+%d face=%d rtt_ms=%.2f server_ms=%.2f "
                 "render_ms=%.2f shm=%d\n",
                 target.time, width, height, region.width, region.height, region.x, region.y, faceFound ? 1 : 0,
                 roundTripMs, diagnostics.server_ms(), render != diagnostics.stage_ms().end() ? render->second : -1.0,
                 replyBuffer != nullptr ? 1 : 0);
  }
}

}  // namespace ned
