// NedEffect::trainRenderer: the Train neural renderer button. Runs the server's TrainRenderer for
// this shot with the Training minutes budget, shows its progress, and lets the user cancel (the
// server keeps its last checkpoint, and the next press continues from it).
//
// OFX progress bars keep the label they started with, so the stage and the held-out PSNR go to
// the Status parameter while the bar shows the fraction of the budget.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "ned_client.h"
#include "ned_effect.h"
#include "ned_ids.h"
#include "ofx/ofx_messages.h"

namespace ned {
namespace {

constexpr std::chrono::milliseconds kProgressPoll{100};

// NED_TRAIN_TIMEOUT_MS if set, else the budget plus a quarter of it plus 10 minutes: preparation,
// the final validation over every held-out frame and the ONNX export come after the budget and
// take minutes on a CPU for a long shot.
std::chrono::milliseconds trainTimeout(double budgetSeconds) {
  const auto budget = std::chrono::milliseconds(static_cast<long long>(budgetSeconds * 1250.0));
  return timeoutFromEnv("NED_TRAIN_TIMEOUT_MS", budget + std::chrono::minutes(10));
}

std::string psnrText(double psnr) {
  char text[48];
  std::snprintf(text, sizeof(text), "held-out PSNR %.1f dB", psnr);
  return text;
}

// The Status text while training: the stage, and the held-out PSNR once validation measured it.
std::string trainingStatus(const v1::TrainProgress& progress) {
  std::string text = "training the neural renderer: " + progress.stage();
  if (progress.validation_psnr() > 0.0) {
    text += ", " + psnrText(progress.validation_psnr());
  }
  return text;
}

// What the user reads when TrainRenderer fails for `shot`: what to do first, then the server's words.
std::string describeTrainingFailure(const ServerError& e, const std::string& shot) {
  switch (e.code()) {
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "shot " + shot + " cannot be trained yet: set Renderer to neural and press Analyze shot (that "
             "analysis keeps the face crops training needs), then Train neural renderer. " + e.what();
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "the server is busy training another neural renderer; press Train neural renderer again when it "
             "has finished. " + std::string(e.what());
    default:
      return std::string("training failed: ") + e.what();
  }
}

}  // namespace

OfxStatus NedEffect::trainRenderer(const ofx::PropertySet& inArgs) {
  const OfxTime time = inArgs.findDouble(ofx::kPropTime).value_or(0.0);
  const EffectSettings settings = settingsAt(time);
  const double minutes = std::clamp(trainMinutes_.doubleAt(time), kTrainMinutesMin, kTrainMinutesMax);
  clearReport();  // a press is a new request: its failure is shown even when it repeats the last one
  std::string shot;
  try {
    shot = sourceShotId(settings.shotName, time);
    return streamTraining(settings.server, shot, minutes * 60.0);
  } catch (const ServerError& e) {
    report(ofx::kMessageError, describeTrainingFailure(e, shot));
    return ofx::kStatFailed;
  } catch (const std::exception& e) {
    report(ofx::kMessageError, std::string("training failed: ") + e.what());
    return ofx::kStatFailed;
  }
}

OfxStatus NedEffect::streamTraining(const std::string& server, const std::string& shot, double budgetSeconds) {
  v1::TrainRendererRequest request;
  request.set_shot_id(shot);
  request.set_time_budget_seconds(budgetSeconds);
  request.set_resume(true);  // a second press trains on from the last checkpoint (a no-op for the first)
  request.set_face_index(0);  // the server trains for the shot's largest face
  NedClient client(server);
  ofx::Progress progress(handle_, "Emotion Director: training the neural renderer");
  const std::unique_ptr<TrainCall> call = client.trainRenderer(request, trainTimeout(budgetSeconds));
  double shown = 0.0;
  std::int64_t steps = 0;  // the final message may leave the step out: keep the last one reported
  for (;;) {
    const TrainCall::Progress seen = call->waitForProgress(kProgressPoll);
    if (seen.received) {
      shown = std::max(shown, std::min(1.0, seen.latest.fraction()));
      steps = std::max(steps, seen.latest.step());
      setStatus(trainingStatus(seen.latest));
    }
    if (!progress.update(shown)) {
      call->cancel();
      const std::string text = "training cancelled; the last checkpoint is kept (Train neural renderer continues "
                               "from it)";
      setStatus(text);
      ofx::postMessage(handle_, ofx::kMessageMessage, std::string(kPluginLabel) + ": " + text);
      return ofx::kStatOK;
    }
    if (seen.ended) {
      break;
    }
  }
  const v1::TrainProgress last = call->finish();
  if (last.stage() != "done") {
    throw std::runtime_error("the server ended the training at stage \"" + last.stage() + "\" without a renderer");
  }
  clearReport();
  setStatus("neural renderer trained: " + std::to_string(std::max(steps, last.step())) + " steps, " +
            psnrText(last.validation_psnr()));
  return ofx::kStatOK;
}

}  // namespace ned
