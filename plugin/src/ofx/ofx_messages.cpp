#include "ofx/ofx_messages.h"

#include <algorithm>
#include <cstring>

#include "ofx/ofx_host.h"

namespace ofx {

void postMessage(OfxImageEffectHandle effect, const char* type, const std::string& text) {
  const HostSuites& s = suites();
  // The text goes through "%s": it may contain '%' (e.g. from a server's message).
  if (s.messageV2 != nullptr) {
    s.messageV2->message(effect, type, nullptr, "%s", text.c_str());
    const bool persistent = std::strcmp(type, kMessageError) == 0 || std::strcmp(type, kMessageWarning) == 0;
    if (persistent) {
      s.messageV2->setPersistentMessage(effect, type, nullptr, "%s", text.c_str());
    }
  } else if (s.messageV1 != nullptr) {
    s.messageV1->message(effect, type, nullptr, "%s", text.c_str());
  }
}

void clearPersistentMessage(OfxImageEffectHandle effect) {
  if (suites().messageV2 != nullptr) {
    suites().messageV2->clearPersistentMessage(effect);
  }
}

Progress::Progress(OfxImageEffectHandle effect, const char* label) : effect_(effect) {
  const HostSuites& s = suites();
  if (s.progressV2 != nullptr) {
    started_ = s.progressV2->progressStart(effect, label, label) == kStatOK;
  } else if (s.progressV1 != nullptr) {
    started_ = s.progressV1->progressStart(effect, label) == kStatOK;
  }
}

Progress::~Progress() {
  if (!started_) {
    return;
  }
  const HostSuites& s = suites();
  if (s.progressV2 != nullptr) {
    s.progressV2->progressEnd(effect_);
  } else {
    s.progressV1->progressEnd(effect_);
  }
}

bool Progress::update(double fraction) {
  if (!started_) {
    return true;
  }
  const HostSuites& s = suites();
  const double clamped = std::clamp(fraction, 0.0, 1.0);
  const OfxStatus status = s.progressV2 != nullptr ? s.progressV2->progressUpdate(effect_, clamped)
                                                   : s.progressV1->progressUpdate(effect_, clamped);
  return status != kStatReplyNo;
}

}  // namespace ofx
