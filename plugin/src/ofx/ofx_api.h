// The OpenFX 1.x C ABI as far as Emotion Director uses it, declared from the OpenFX specification
// (see docs/ofx_facts.md §5). Types, struct layouts and suite function tables are binary contracts
// with the host: member order is slot order, never reorder. String values are the spec's values;
// the C++ names are ours.
#pragma once

#include <cstddef>

extern "C" {

typedef int OfxStatus;
typedef double OfxTime;

typedef struct OfxPropertySetStruct* OfxPropertySetHandle;
typedef struct OfxImageEffectStruct* OfxImageEffectHandle;
typedef struct OfxImageClipStruct* OfxImageClipHandle;
typedef struct OfxParamStruct* OfxParamHandle;
typedef struct OfxParamSetStruct* OfxParamSetHandle;
typedef struct OfxImageMemoryStruct* OfxImageMemoryHandle;

// Half-open rectangles: x1 <= x < x2, y1 <= y < y2 (Y up in OFX pixel and canonical space).
struct OfxRectI { int x1, y1, x2, y2; };
struct OfxRectD { double x1, y1, x2, y2; };
struct OfxRangeD { double min, max; };

struct OfxHost {
  OfxPropertySetHandle host;
  const void* (*fetchSuite)(OfxPropertySetHandle host, const char* suiteName, int suiteVersion);
};

typedef OfxStatus(OfxPluginEntryPoint)(const char* action, const void* handle, OfxPropertySetHandle inArgs,
                                       OfxPropertySetHandle outArgs);

struct OfxPlugin {
  const char* pluginApi;
  int apiVersion;
  const char* pluginIdentifier;
  unsigned int pluginVersionMajor;
  unsigned int pluginVersionMinor;
  void (*setHost)(OfxHost* host);
  OfxPluginEntryPoint* mainEntry;
};

struct OfxPropertySuiteV1 {
  OfxStatus (*propSetPointer)(OfxPropertySetHandle, const char*, int index, void* value);
  OfxStatus (*propSetString)(OfxPropertySetHandle, const char*, int index, const char* value);
  OfxStatus (*propSetDouble)(OfxPropertySetHandle, const char*, int index, double value);
  OfxStatus (*propSetInt)(OfxPropertySetHandle, const char*, int index, int value);
  OfxStatus (*propSetPointerN)(OfxPropertySetHandle, const char*, int count, void* const* values);
  OfxStatus (*propSetStringN)(OfxPropertySetHandle, const char*, int count, const char* const* values);
  OfxStatus (*propSetDoubleN)(OfxPropertySetHandle, const char*, int count, const double* values);
  OfxStatus (*propSetIntN)(OfxPropertySetHandle, const char*, int count, const int* values);
  OfxStatus (*propGetPointer)(OfxPropertySetHandle, const char*, int index, void** value);
  OfxStatus (*propGetString)(OfxPropertySetHandle, const char*, int index, char** value);
  OfxStatus (*propGetDouble)(OfxPropertySetHandle, const char*, int index, double* value);
  OfxStatus (*propGetInt)(OfxPropertySetHandle, const char*, int index, int* value);
  OfxStatus (*propGetPointerN)(OfxPropertySetHandle, const char*, int count, void** values);
  OfxStatus (*propGetStringN)(OfxPropertySetHandle, const char*, int count, char** values);
  OfxStatus (*propGetDoubleN)(OfxPropertySetHandle, const char*, int count, double* values);
  OfxStatus (*propGetIntN)(OfxPropertySetHandle, const char*, int count, int* values);
  OfxStatus (*propReset)(OfxPropertySetHandle, const char*);
  OfxStatus (*propGetDimension)(OfxPropertySetHandle, const char*, int* count);
};

// The variadic slots take out-pointers (get) or values (set) according to the parameter's type:
// int for Integer/Boolean/Choice, double for Double, char* / const char* for String.
struct OfxParameterSuiteV1 {
  OfxStatus (*paramDefine)(OfxParamSetHandle, const char* paramType, const char* name,
                           OfxPropertySetHandle* propsOut);
  OfxStatus (*paramGetHandle)(OfxParamSetHandle, const char* name, OfxParamHandle* param,
                              OfxPropertySetHandle* propsOut);
  OfxStatus (*paramSetGetPropertySet)(OfxParamSetHandle, OfxPropertySetHandle* propsOut);
  OfxStatus (*paramGetPropertySet)(OfxParamHandle, OfxPropertySetHandle* propsOut);
  OfxStatus (*paramGetValue)(OfxParamHandle, ...);
  OfxStatus (*paramGetValueAtTime)(OfxParamHandle, OfxTime time, ...);
  OfxStatus (*paramGetDerivative)(OfxParamHandle, OfxTime time, ...);
  OfxStatus (*paramGetIntegral)(OfxParamHandle, OfxTime time1, OfxTime time2, ...);
  OfxStatus (*paramSetValue)(OfxParamHandle, ...);
  OfxStatus (*paramSetValueAtTime)(OfxParamHandle, OfxTime time, ...);
  OfxStatus (*paramGetNumKeys)(OfxParamHandle, unsigned int* numberOfKeys);
  OfxStatus (*paramGetKeyTime)(OfxParamHandle, unsigned int nthKey, OfxTime* time);
  OfxStatus (*paramGetKeyIndex)(OfxParamHandle, OfxTime time, int direction, int* index);
  OfxStatus (*paramDeleteKey)(OfxParamHandle, OfxTime time);
  OfxStatus (*paramDeleteAllKeys)(OfxParamHandle);
  OfxStatus (*paramCopy)(OfxParamHandle to, OfxParamHandle from, OfxTime dstOffset, const OfxRangeD* range);
  OfxStatus (*paramEditBegin)(OfxParamSetHandle, const char* name);
  OfxStatus (*paramEditEnd)(OfxParamSetHandle);
};

struct OfxImageEffectSuiteV1 {
  OfxStatus (*getPropertySet)(OfxImageEffectHandle, OfxPropertySetHandle* propsOut);
  OfxStatus (*getParamSet)(OfxImageEffectHandle, OfxParamSetHandle* paramSetOut);
  OfxStatus (*clipDefine)(OfxImageEffectHandle, const char* name, OfxPropertySetHandle* propsOut);
  OfxStatus (*clipGetHandle)(OfxImageEffectHandle, const char* name, OfxImageClipHandle* clip,
                             OfxPropertySetHandle* propsOut);
  OfxStatus (*clipGetPropertySet)(OfxImageClipHandle, OfxPropertySetHandle* propsOut);
  OfxStatus (*clipGetImage)(OfxImageClipHandle, OfxTime time, const OfxRectD* region,
                            OfxPropertySetHandle* imageOut);
  OfxStatus (*clipReleaseImage)(OfxPropertySetHandle image);
  OfxStatus (*clipGetRegionOfDefinition)(OfxImageClipHandle, OfxTime time, OfxRectD* bounds);
  int (*abort)(OfxImageEffectHandle);
  OfxStatus (*imageMemoryAlloc)(OfxImageEffectHandle, size_t nBytes, OfxImageMemoryHandle* memoryOut);
  OfxStatus (*imageMemoryFree)(OfxImageMemoryHandle);
  OfxStatus (*imageMemoryLock)(OfxImageMemoryHandle, void** dataOut);
  OfxStatus (*imageMemoryUnlock)(OfxImageMemoryHandle);
};

struct OfxMessageSuiteV1 {
  OfxStatus (*message)(void* handle, const char* messageType, const char* messageId, const char* format, ...);
};

struct OfxMessageSuiteV2 {
  OfxStatus (*message)(void* handle, const char* messageType, const char* messageId, const char* format, ...);
  OfxStatus (*setPersistentMessage)(void* handle, const char* messageType, const char* messageId,
                                    const char* format, ...);
  OfxStatus (*clearPersistentMessage)(void* handle);
};

struct OfxProgressSuiteV1 {
  OfxStatus (*progressStart)(void* effectInstance, const char* label);
  OfxStatus (*progressUpdate)(void* effectInstance, double progress);
  OfxStatus (*progressEnd)(void* effectInstance);
};

struct OfxProgressSuiteV2 {
  OfxStatus (*progressStart)(void* effectInstance, const char* message, const char* messageId);
  OfxStatus (*progressUpdate)(void* effectInstance, double progress);
  OfxStatus (*progressEnd)(void* effectInstance);
};

}  // extern "C"

static_assert(sizeof(OfxPlugin) == 48, "OfxPlugin layout");
static_assert(sizeof(OfxHost) == 16, "OfxHost layout");
static_assert(sizeof(OfxPropertySuiteV1) == 144, "property suite layout");
static_assert(sizeof(OfxParameterSuiteV1) == 144, "parameter suite layout");
static_assert(sizeof(OfxImageEffectSuiteV1) == 104, "image effect suite layout");
static_assert(sizeof(OfxMessageSuiteV2) == 24, "message suite V2 layout");
static_assert(sizeof(OfxProgressSuiteV1) == 24, "progress suite layout");

namespace ofx {

// Status codes.
inline constexpr OfxStatus kStatOK = 0;
inline constexpr OfxStatus kStatFailed = 1;
inline constexpr OfxStatus kStatErrFatal = 2;
inline constexpr OfxStatus kStatErrUnknown = 3;
inline constexpr OfxStatus kStatErrMissingHostFeature = 4;
inline constexpr OfxStatus kStatErrUnsupported = 5;
inline constexpr OfxStatus kStatErrBadHandle = 9;
inline constexpr OfxStatus kStatErrBadIndex = 10;
inline constexpr OfxStatus kStatErrValue = 11;
inline constexpr OfxStatus kStatReplyYes = 12;
inline constexpr OfxStatus kStatReplyNo = 13;
inline constexpr OfxStatus kStatReplyDefault = 14;

inline constexpr const char* kImageEffectPluginApi = "OfxImageEffectPluginAPI";
inline constexpr int kImageEffectPluginApiVersion = 1;

// Suites.
inline constexpr const char* kPropertySuite = "OfxPropertySuite";
inline constexpr const char* kParameterSuite = "OfxParameterSuite";
inline constexpr const char* kImageEffectSuite = "OfxImageEffectSuite";
inline constexpr const char* kMessageSuite = "OfxMessageSuite";
inline constexpr const char* kProgressSuite = "OfxProgressSuite";

// Actions.
inline constexpr const char* kActionLoad = "OfxActionLoad";
inline constexpr const char* kActionUnload = "OfxActionUnload";
inline constexpr const char* kActionDescribe = "OfxActionDescribe";
inline constexpr const char* kActionDescribeInContext = "OfxImageEffectActionDescribeInContext";
inline constexpr const char* kActionCreateInstance = "OfxActionCreateInstance";
inline constexpr const char* kActionDestroyInstance = "OfxActionDestroyInstance";
inline constexpr const char* kActionInstanceChanged = "OfxActionInstanceChanged";
inline constexpr const char* kActionRender = "OfxImageEffectActionRender";
inline constexpr const char* kActionIsIdentity = "OfxImageEffectActionIsIdentity";

// General properties.
inline constexpr const char* kPropName = "OfxPropName";
inline constexpr const char* kPropLabel = "OfxPropLabel";
inline constexpr const char* kPropType = "OfxPropType";
inline constexpr const char* kPropTime = "OfxPropTime";
inline constexpr const char* kPropVersion = "OfxPropVersion";
inline constexpr const char* kPropVersionLabel = "OfxPropVersionLabel";
inline constexpr const char* kPropPluginDescription = "OfxPropPluginDescription";
inline constexpr const char* kPropInstanceData = "OfxPropInstanceData";
inline constexpr const char* kPropChangeReason = "OfxPropChangeReason";
inline constexpr const char* kTypeParameter = "OfxTypeParameter";
inline constexpr const char* kChangeUserEdited = "OfxChangeUserEdited";

// Image effect (descriptor, host and action argument) properties.
inline constexpr const char* kEffectPropGrouping = "OfxImageEffectPluginPropGrouping";
inline constexpr const char* kEffectPropSupportedContexts = "OfxImageEffectPropSupportedContexts";
inline constexpr const char* kEffectPropSupportedPixelDepths = "OfxImageEffectPropSupportedPixelDepths";
inline constexpr const char* kEffectPropSupportedComponents = "OfxImageEffectPropSupportedComponents";
inline constexpr const char* kEffectPropSupportsTiles = "OfxImageEffectPropSupportsTiles";
inline constexpr const char* kEffectPropSupportsMultiResolution = "OfxImageEffectPropSupportsMultiResolution";
inline constexpr const char* kEffectPropSupportsMultipleClipDepths = "OfxImageEffectPropMultipleClipDepths";
inline constexpr const char* kEffectPropTemporalClipAccess = "OfxImageEffectPropTemporalClipAccess";
inline constexpr const char* kEffectPropRenderThreadSafety = "OfxImageEffectPluginRenderThreadSafety";
inline constexpr const char* kEffectPropHostFrameThreading = "OfxImageEffectPluginPropHostFrameThreading";
inline constexpr const char* kEffectPropContext = "OfxImageEffectPropContext";
inline constexpr const char* kEffectPropFrameRange = "OfxImageEffectPropFrameRange";
inline constexpr const char* kEffectPropRenderWindow = "OfxImageEffectPropRenderWindow";
inline constexpr const char* kEffectPropRenderScale = "OfxImageEffectPropRenderScale";
inline constexpr const char* kEffectPropPixelDepth = "OfxImageEffectPropPixelDepth";
inline constexpr const char* kEffectPropComponents = "OfxImageEffectPropComponents";
inline constexpr const char* kEffectContextFilter = "OfxImageEffectContextFilter";
inline constexpr const char* kEffectContextGeneral = "OfxImageEffectContextGeneral";
inline constexpr const char* kRenderUnsafe = "OfxImageEffectRenderUnsafe";

// Clip properties.
inline constexpr const char* kClipPropOptional = "OfxImageClipPropOptional";
inline constexpr const char* kClipPropIsMask = "OfxImageClipPropIsMask";

// Image properties.
inline constexpr const char* kImagePropData = "OfxImagePropData";
inline constexpr const char* kImagePropBounds = "OfxImagePropBounds";
inline constexpr const char* kImagePropRowBytes = "OfxImagePropRowBytes";
inline constexpr const char* kImagePropPixelAspectRatio = "OfxImagePropPixelAspectRatio";
inline constexpr const char* kEffectPropFrameRate = "OfxImageEffectPropFrameRate";

inline constexpr const char* kBitDepthByte = "OfxBitDepthByte";
inline constexpr const char* kBitDepthShort = "OfxBitDepthShort";
inline constexpr const char* kBitDepthFloat = "OfxBitDepthFloat";
inline constexpr const char* kComponentRGBA = "OfxImageComponentRGBA";

// Parameter types.
inline constexpr const char* kParamTypeInteger = "OfxParamTypeInteger";
inline constexpr const char* kParamTypeDouble = "OfxParamTypeDouble";
inline constexpr const char* kParamTypeChoice = "OfxParamTypeChoice";
inline constexpr const char* kParamTypeString = "OfxParamTypeString";
inline constexpr const char* kParamTypePushButton = "OfxParamTypePushButton";
inline constexpr const char* kParamTypePage = "OfxParamTypePage";

// Parameter properties.
inline constexpr const char* kParamPropHint = "OfxParamPropHint";
inline constexpr const char* kParamPropDefault = "OfxParamPropDefault";
inline constexpr const char* kParamPropMin = "OfxParamPropMin";
inline constexpr const char* kParamPropMax = "OfxParamPropMax";
inline constexpr const char* kParamPropDisplayMin = "OfxParamPropDisplayMin";
inline constexpr const char* kParamPropDisplayMax = "OfxParamPropDisplayMax";
inline constexpr const char* kParamPropIncrement = "OfxParamPropIncrement";
inline constexpr const char* kParamPropDigits = "OfxParamPropDigits";
inline constexpr const char* kParamPropAnimates = "OfxParamPropAnimates";
inline constexpr const char* kParamPropChoiceOption = "OfxParamPropChoiceOption";
inline constexpr const char* kParamPropStringMode = "OfxParamPropStringMode";
inline constexpr const char* kParamPropSecret = "OfxParamPropSecret";
inline constexpr const char* kParamPropPersistant = "OfxParamPropPersistant";  // sic, the spec's spelling
inline constexpr const char* kParamPropEvaluateOnChange = "OfxParamPropEvaluateOnChange";
inline constexpr const char* kParamPropCanUndo = "OfxParamPropCanUndo";
inline constexpr const char* kParamPropPageChild = "OfxParamPropPageChild";
inline constexpr const char* kParamStringIsSingleLine = "OfxParamStringIsSingleLine";
inline constexpr const char* kParamStringIsLabel = "OfxParamStringIsLabel";

// Message types.
inline constexpr const char* kMessageError = "OfxMessageError";
inline constexpr const char* kMessageWarning = "OfxMessageWarning";
inline constexpr const char* kMessageMessage = "OfxMessageMessage";

}  // namespace ofx
