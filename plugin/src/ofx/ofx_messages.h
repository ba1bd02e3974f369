// User-facing messages and progress through the host's message and progress suites. Both suites
// are optional: without them these calls do nothing (and progress is never cancelled).
#pragma once

#include <string>

#include "ofx/ofx_api.h"

namespace ofx {

// Posts `text` (type kMessageError / kMessageWarning / kMessageMessage) on the effect instance.
// Errors and warnings also become the instance's persistent message where the host has V2.
void postMessage(OfxImageEffectHandle effect, const char* type, const std::string& text);
void clearPersistentMessage(OfxImageEffectHandle effect);

// A progress bar for one long action; ends when destroyed.
class Progress {
 public:
  Progress(OfxImageEffectHandle effect, const char* label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Shows `fraction` (0..1); returns false when the user asked to cancel.
  bool update(double fraction);

 private:
  OfxImageEffectHandle effect_;
  bool started_ = false;
};

}  // namespace ofx
