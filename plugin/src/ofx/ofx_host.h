// The host's suites, fetched once per Load, and the error type used by the OFX helper layer.
#pragma once

#include <stdexcept>
#include <string>

#include "ofx/ofx_api.h"

namespace ofx {

// A failed suite call, carrying the status the action should return to the host.
class OfxError : public std::runtime_error {
 public:
  OfxError(OfxStatus status, const std::string& what) : std::runtime_error(what), status_(status) {}
  OfxStatus status() const { return status_; }

 private:
  OfxStatus status_;
};

// Throws OfxError(status, "<what>: status N") unless status is kStatOK.
void check(OfxStatus status, const std::string& what);

// Suites the host handed out. Property, parameter and image effect suites are mandatory; the
// message and progress suites may be missing (then messages and progress are skipped).
struct HostSuites {
  OfxHost* host = nullptr;
  const OfxPropertySuiteV1* property = nullptr;
  const OfxParameterSuiteV1* parameter = nullptr;
  const OfxImageEffectSuiteV1* imageEffect = nullptr;
  const OfxMessageSuiteV1* messageV1 = nullptr;
  const OfxMessageSuiteV2* messageV2 = nullptr;
  const OfxProgressSuiteV1* progressV1 = nullptr;
  const OfxProgressSuiteV2* progressV2 = nullptr;
};

// The process-wide suites (one host per process).
const HostSuites& suites();

// Stores the host pointer given through OfxPlugin::setHost.
void setHost(OfxHost* host);

// Fetches every suite from the stored host. Safe to call on every Load (hosts such as MLT send
// Load many times without Unload). Returns false when a mandatory suite is missing.
bool fetchSuites();

}  // namespace ofx
