#include "ofx/ofx_host.h"

namespace ofx {
namespace {

HostSuites gSuites;

template <typename Suite>
const Suite* fetch(const char* name, int version) {
  return static_cast<const Suite*>(gSuites.host->fetchSuite(gSuites.host->host, name, version));
}

}  // namespace

void check(OfxStatus status, const std::string& what) {
  if (status != kStatOK) {
    throw OfxError(status, what + ": OFX status " + std::to_string(status));
  }
}

const HostSuites& suites() { return gSuites; }

void setHost(OfxHost* host) { gSuites.host = host; }

bool fetchSuites() {
  if (gSuites.host == nullptr || gSuites.host->fetchSuite == nullptr) {
    return false;
  }
  gSuites.property = fetch<OfxPropertySuiteV1>(kPropertySuite, 1);
  gSuites.parameter = fetch<OfxParameterSuiteV1>(kParameterSuite, 1);
  gSuites.imageEffect = fetch<OfxImageEffectSuiteV1>(kImageEffectSuite, 1);
  gSuites.messageV2 = fetch<OfxMessageSuiteV2>(kMessageSuite, 2);
  gSuites.messageV1 = fetch<OfxMessageSuiteV1>(kMessageSuite, 1);
  gSuites.progressV2 = fetch<OfxProgressSuiteV2>(kProgressSuite, 2);
  gSuites.progressV1 = fetch<OfxProgressSuiteV1>(kProgressSuite, 1);
  return gSuites.property != nullptr && gSuites.parameter != nullptr && gSuites.imageEffect != nullptr;
}

}  // namespace ofx
