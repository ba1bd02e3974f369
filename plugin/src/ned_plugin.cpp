// The OFX entry points: the plugin record, setHost and mainEntry, which routes actions and makes
// sure no exception ever reaches the host.
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include "ned_effect.h"
#include "ned_factory.h"
#include "ned_ids.h"
#include "ofx/ofx_host.h"
#include "ofx/ofx_props.h"

namespace ned {
namespace {

ofx::PropertySet instanceProperties(const void* handle) {
  OfxPropertySetHandle props = nullptr;
  ofx::check(ofx::suites().imageEffect->getPropertySet(
                 static_cast<OfxImageEffectHandle>(const_cast<void*>(handle)), &props),
             "reading the instance's properties");
  return ofx::PropertySet(props);
}

NedEffect& instanceOf(const void* handle) {
  auto* effect = static_cast<NedEffect*>(instanceProperties(handle).getPointer(ofx::kPropInstanceData));
  if (effect == nullptr) {
    throw ofx::OfxError(ofx::kStatErrBadHandle, "action on an instance that was never created");
  }
  return *effect;
}

OfxStatus createInstance(const void* handle) {
  auto effect = std::make_unique<NedEffect>(static_cast<OfxImageEffectHandle>(const_cast<void*>(handle)));
  instanceProperties(handle).setPointer(ofx::kPropInstanceData, effect.get());
  effect.release();  // owned by the host's instance until DestroyInstance
  return ofx::kStatOK;
}

OfxStatus destroyInstance(const void* handle) {
  const ofx::PropertySet props = instanceProperties(handle);
  delete static_cast<NedEffect*>(props.getPointer(ofx::kPropInstanceData));
  props.setPointer(ofx::kPropInstanceData, nullptr);
  return ofx::kStatOK;
}

OfxStatus dispatch(const char* action, const void* handle, OfxPropertySetHandle inArgs,
                   OfxPropertySetHandle outArgs) {
  const auto is = [action](const char* name) { return std::strcmp(action, name) == 0; };
  auto* effectHandle = static_cast<OfxImageEffectHandle>(const_cast<void*>(handle));
  if (is(ofx::kActionLoad)) {
    return ofx::fetchSuites() ? ofx::kStatOK : ofx::kStatErrMissingHostFeature;
  }
  if (is(ofx::kActionUnload)) {
    return ofx::kStatOK;
  }
  if (is(ofx::kActionDescribe)) {
    return describe(effectHandle);
  }
  if (is(ofx::kActionDescribeInContext)) {
    return describeInContext(effectHandle, inArgs);
  }
  if (is(ofx::kActionCreateInstance)) {
    return createInstance(handle);
  }
  if (is(ofx::kActionDestroyInstance)) {
    return destroyInstance(handle);
  }
  if (is(ofx::kActionRender)) {
    return instanceOf(handle).render(ofx::PropertySet(inArgs));
  }
  if (is(ofx::kActionIsIdentity)) {
    return instanceOf(handle).isIdentity(ofx::PropertySet(inArgs), ofx::PropertySet(outArgs));
  }
  if (is(ofx::kActionInstanceChanged)) {
    return instanceOf(handle).instanceChanged(ofx::PropertySet(inArgs));
  }
  return ofx::kStatReplyDefault;
}

OfxStatus mainEntry(const char* action, const void* handle, OfxPropertySetHandle inArgs,
                    OfxPropertySetHandle outArgs) {
  try {
    if (action == nullptr) {
      return ofx::kStatErrValue;
    }
    return dispatch(action, handle, inArgs, outArgs);
  } catch (const ofx::OfxError& e) {
    std::fprintf(stderr, "[EmotionDirector] %s: %s\n", action, e.what());
    return e.status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[EmotionDirector] %s: %s\n", action, e.what());
    return ofx::kStatFailed;
  } catch (...) {
    std::fprintf(stderr, "[EmotionDirector] %s: unknown failure\n", action);
    return ofx::kStatFailed;
  }
}

void setHost(OfxHost* host) { ofx::setHost(host); }

OfxPlugin gPlugin = {ofx::kImageEffectPluginApi, ofx::kImageEffectPluginApiVersion, kPluginIdentifier,
                     kPluginVersionMajor,        kPluginVersionMinor,                 setHost,
                     mainEntry};

}  // namespace
}  // namespace ned

extern "C" {

__attribute__((visibility("default"))) int OfxGetNumberOfPlugins(void) { return 1; }

__attribute__((visibility("default"))) OfxPlugin* OfxGetPlugin(int nth) {
  return nth == 0 ? &ned::gPlugin : nullptr;
}

}  // extern "C"
