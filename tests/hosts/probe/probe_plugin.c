/* A small OFX filter that exercises the ctypes test host from real C calling conventions.
 *
 * It is the host's own unit-test fixture, not a product part: variadic paramGetValue/SetValue for
 * every value type, printf-formatted messages (register and stack arguments), progress with cancel,
 * temporal clip access, multithreaded pixel copying with a mutex, and both rowBytes signs.
 * Render copies Source to Output exactly inside the render window and writes what it saw into the
 * string param "report". Built by tests/hosts/test_ofx_host.py with the system C compiler.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
typedef int OfxStatus;
typedef void *H; /* every OFX handle is an opaque pointer */
typedef struct { int x1, y1, x2, y2; } RectI;
typedef struct { double x1, y1, x2, y2; } RectD;
typedef struct { H host; const void *(*fetchSuite)(H, const char *, int); } OfxHost;
typedef struct {
  const char *api; int apiVersion; const char *id; unsigned major, minor;
  void (*setHost)(OfxHost *); OfxStatus (*mainEntry)(const char *, const void *, H, H);
} OfxPlugin;

typedef struct {
  OfxStatus (*setPointer)(H, const char *, int, void *);
  OfxStatus (*setString)(H, const char *, int, const char *);
  OfxStatus (*setDouble)(H, const char *, int, double);
  OfxStatus (*setInt)(H, const char *, int, int);
  OfxStatus (*setPointerN)(H, const char *, int, void *const *);
  OfxStatus (*setStringN)(H, const char *, int, const char *const *);
  OfxStatus (*setDoubleN)(H, const char *, int, const double *);
  OfxStatus (*setIntN)(H, const char *, int, const int *);
  OfxStatus (*getPointer)(H, const char *, int, void **);
  OfxStatus (*getString)(H, const char *, int, char **);
  OfxStatus (*getDouble)(H, const char *, int, double *);
  OfxStatus (*getInt)(H, const char *, int, int *);
  OfxStatus (*getPointerN)(H, const char *, int, void **);
  OfxStatus (*getStringN)(H, const char *, int, char **);
  OfxStatus (*getDoubleN)(H, const char *, int, double *);
  OfxStatus (*getIntN)(H, const char *, int, int *);
  OfxStatus (*reset)(H, const char *);
  OfxStatus (*getDimension)(H, const char *, int *);
} PropSuite;

typedef struct {
  OfxStatus (*define)(H, const char *, const char *, H *);
  OfxStatus (*getHandle)(H, const char *, H *, H *);
  OfxStatus (*setGetPropertySet)(H, H *);
  OfxStatus (*getPropertySet)(H, H *);
  OfxStatus (*getValue)(H, ...);
  OfxStatus (*getValueAtTime)(H, double, ...);
  OfxStatus (*getDerivative)(H, double, ...);
  OfxStatus (*getIntegral)(H, double, double, ...);
  OfxStatus (*setValue)(H, ...);
  OfxStatus (*setValueAtTime)(H, double, ...);
  OfxStatus (*getNumKeys)(H, unsigned *);
  void *rest[7];
} ParamSuite;

typedef struct {
  OfxStatus (*getPropertySet)(H, H *);
  OfxStatus (*getParamSet)(H, H *);
  OfxStatus (*clipDefine)(H, const char *, H *);
  OfxStatus (*clipGetHandle)(H, const char *, H *, H *);
  OfxStatus (*clipGetPropertySet)(H, H *);
  OfxStatus (*clipGetImage)(H, double, const RectD *, H *);
  OfxStatus (*clipReleaseImage)(H);
  OfxStatus (*clipGetRegionOfDefinition)(H, double, RectD *);
  int (*abort)(H);
  void *memory[4];
} EffectSuite;

typedef struct {
  OfxStatus (*message)(H, const char *, const char *, const char *, ...);
  OfxStatus (*setPersistentMessage)(H, const char *, const char *, const char *, ...);
  OfxStatus (*clearPersistentMessage)(H);
} MessageSuite;

typedef struct {
  OfxStatus (*start)(H, const char *);
  OfxStatus (*update)(H, double);
  OfxStatus (*end)(H);
} ProgressSuite;

typedef struct {
  OfxStatus (*multiThread)(void (*)(unsigned, unsigned, void *), unsigned, void *);
  OfxStatus (*numCPUs)(unsigned *);
  OfxStatus (*index)(unsigned *);
  int (*isSpawned)(void);
  OfxStatus (*mutexCreate)(H *, int);
  OfxStatus (*mutexDestroy)(H);
  OfxStatus (*mutexLock)(H);
  OfxStatus (*mutexUnLock)(H);
  OfxStatus (*mutexTryLock)(H);
} ThreadSuite;

static OfxHost *gHost;
static const PropSuite *P;
static const ParamSuite *Q;
static const EffectSuite *E;
static const MessageSuite *M;
static const ProgressSuite *G;
static const ThreadSuite *T;

static void setHost(OfxHost *h) { gHost = h; }

static H param(H effect, const char *name) {
  H set = NULL, p = NULL;
  E->getParamSet(effect, &set);
  Q->getHandle(set, name, &p, NULL);
  return p;
}

static H defineParam(H set, const char *type, const char *name) {
  H props = NULL;
  Q->define(set, type, name, &props);
  return props;
}

static OfxStatus describe(H effect) {
  H props;
  static const char *depths[] = {"OfxBitDepthByte", "OfxBitDepthShort", "OfxBitDepthFloat"};
  E->getPropertySet(effect, &props);
  P->setString(props, "OfxPropLabel", 0, "Host probe");
  P->setString(props, "OfxImageEffectPropSupportedContexts", 0, "OfxImageEffectContextFilter");
  P->setStringN(props, "OfxImageEffectPropSupportedPixelDepths", 3, depths);
  P->setString(props, "OfxImageEffectPluginRenderThreadSafety", 0, "OfxImageEffectRenderUnsafe");
  P->setInt(props, "OfxImageEffectPropSupportsTiles", 0, 0);
  P->setInt(props, "OfxImageEffectPropTemporalClipAccess", 0, 1);
  return 0;
}

static OfxStatus describeInContext(H effect) {
  H clip, set, p;
  E->clipDefine(effect, "Source", &clip);
  P->setString(clip, "OfxImageEffectPropSupportedComponents", 0, "OfxImageComponentRGBA");
  E->clipDefine(effect, "Output", &clip);
  P->setString(clip, "OfxImageEffectPropSupportedComponents", 0, "OfxImageComponentRGBA");
  E->getParamSet(effect, &set);
  P->setDouble(defineParam(set, "OfxParamTypeDouble", "gain"), "OfxParamPropDefault", 0, 1.0);
  P->setInt(defineParam(set, "OfxParamTypeInteger", "count"), "OfxParamPropDefault", 0, 3);
  defineParam(set, "OfxParamTypeBoolean", "flag");
  p = defineParam(set, "OfxParamTypeChoice", "mode");
  P->setString(p, "OfxParamPropChoiceOption", 0, "a");
  P->setString(p, "OfxParamPropChoiceOption", 1, "b");
  P->setString(p, "OfxParamPropChoiceOption", 2, "c");
  P->setInt(p, "OfxParamPropDefault", 0, 1);
  P->setString(defineParam(set, "OfxParamTypeString", "label"), "OfxParamPropDefault", 0, "hello");
  defineParam(set, "OfxParamTypeString", "report");
  p = defineParam(set, "OfxParamTypeDouble2D", "size2");
  P->setDouble(p, "OfxParamPropDefault", 0, 1.5);
  P->setDouble(p, "OfxParamPropDefault", 1, 2.5);
  defineParam(set, "OfxParamTypePushButton", "walk");
  return 0;
}

typedef struct {
  char *src, *dst;
  int srcRowBytes, dstRowBytes, rowBytesUsed, y1, y2;
  H mutex;
  int rowsDone;
} CopyJob;

static void copyRows(unsigned index, unsigned count, void *arg) {
  CopyJob *job = arg;
  int rows = job->y2 - job->y1, done = 0;
  for (int y = job->y1 + (int)index; y < job->y1 + rows; y += (int)count, done++)
    memcpy(job->dst + (long)y * job->dstRowBytes, job->src + (long)y * job->srcRowBytes, job->rowBytesUsed);
  T->mutexLock(job->mutex);
  job->rowsDone += done;
  T->mutexUnLock(job->mutex);
}

static int pixelBytes(H image) {
  char *depth = NULL;
  P->getString(image, "OfxImageEffectPropPixelDepth", 0, &depth);
  return strcmp(depth, "OfxBitDepthByte") == 0 ? 4 : strcmp(depth, "OfxBitDepthShort") == 0 ? 8 : 16;
}

static OfxStatus render(H effect, H args) {
  double t, gain, size[2];
  int window[4], bounds[4], count, flag, mode, srcRB, dstRB, prevOk;
  char *label, report[512];
  H srcClip, dstClip, src = NULL, dst = NULL, prev = NULL;
  void *srcData, *dstData;
  P->getDouble(args, "OfxPropTime", 0, &t);
  P->getIntN(args, "OfxImageEffectPropRenderWindow", 4, window);
  E->clipGetHandle(effect, "Source", &srcClip, NULL);
  E->clipGetHandle(effect, "Output", &dstClip, NULL);
  if (E->clipGetImage(srcClip, t, NULL, &src) || E->clipGetImage(dstClip, t, NULL, &dst)) return 1;
  P->getPointer(src, "OfxImagePropData", 0, &srcData);
  P->getPointer(dst, "OfxImagePropData", 0, &dstData);
  P->getInt(src, "OfxImagePropRowBytes", 0, &srcRB);
  P->getInt(dst, "OfxImagePropRowBytes", 0, &dstRB);
  P->getIntN(src, "OfxImagePropBounds", 4, bounds);
  int bpp = pixelBytes(src);
  CopyJob job = {(char *)srcData + (long)(window[0] - bounds[0]) * bpp,
                 (char *)dstData + (long)(window[0] - bounds[0]) * bpp,
                 srcRB, dstRB, (window[2] - window[0]) * bpp, window[1] - bounds[1], window[3] - bounds[1], NULL, 0};
  T->mutexCreate(&job.mutex, 0);
  T->multiThread(copyRows, 0, &job);
  T->mutexDestroy(job.mutex);
  Q->getValueAtTime(param(effect, "gain"), t, &gain);
  Q->getValue(param(effect, "count"), &count);
  Q->getValue(param(effect, "flag"), &flag);
  Q->getValue(param(effect, "mode"), &mode);
  Q->getValue(param(effect, "label"), &label);
  Q->getValue(param(effect, "size2"), &size[0], &size[1]);
  prevOk = E->clipGetImage(srcClip, t - 1, NULL, &prev) == 0;
  if (prevOk) E->clipReleaseImage(prev);
  snprintf(report, sizeof report, "t=%g gain=%g count=%d flag=%d mode=%d label=%s size=%g,%g rb=%d rows=%d prev=%d",
           t, gain, count, flag, mode, label, size[0], size[1], srcRB, job.rowsDone, prevOk);
  Q->setValue(param(effect, "report"), report);
  M->message(effect, "OfxMessageLog", "probe.render", "render %s t=%g gain=%.3f n=%d", "ok", t, gain, 42);
  M->message(effect, "OfxMessageLog", "probe.many", "%d %d %d %d %s|%g %g %g %g %g %g %g %g %g %g|%ld %c",
             1, 2, 3, 4, "five", 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 1234567890123L, 'z');
  E->clipReleaseImage(src);
  E->clipReleaseImage(dst);
  return 0;
}

static OfxStatus walk(H effect) {
  H clip, props, image;
  double range[2];
  int walked = 0, cancelled = 0;
  char report[128];
  E->clipGetHandle(effect, "Source", &clip, &props);
  P->getDoubleN(props, "OfxImageEffectPropFrameRange", 2, range);
  G->start(effect, "walking");
  for (double t = range[0]; t <= range[1]; t += 1) {
    if (E->clipGetImage(clip, t, NULL, &image)) break;
    E->clipReleaseImage(image);
    walked++;
    if (G->update(effect, (t - range[0] + 1) / (range[1] - range[0] + 1)) == 13) {
      cancelled = 1;
      break;
    }
  }
  G->end(effect);
  if (cancelled) M->setPersistentMessage(effect, "OfxMessageWarning", "probe.cancel", "cancelled after %d", walked);
  snprintf(report, sizeof report, "walked=%d cancelled=%d", walked, cancelled);
  Q->setValue(param(effect, "report"), report);
  return 0;
}

static OfxStatus mainEntry(const char *action, const void *handle, H in, H out) {
  H effect = (H)handle;
  (void)out;
  if (!strcmp(action, "OfxActionLoad")) {
    P = gHost->fetchSuite(gHost->host, "OfxPropertySuite", 1);
    Q = gHost->fetchSuite(gHost->host, "OfxParameterSuite", 1);
    E = gHost->fetchSuite(gHost->host, "OfxImageEffectSuite", 1);
    M = gHost->fetchSuite(gHost->host, "OfxMessageSuite", 2);
    G = gHost->fetchSuite(gHost->host, "OfxProgressSuite", 1);
    T = gHost->fetchSuite(gHost->host, "OfxMultiThreadSuite", 1);
    return P && Q && E && M && G && T ? 0 : 4;
  }
  if (!strcmp(action, "OfxActionDescribe")) return describe(effect);
  if (!strcmp(action, "OfxImageEffectActionDescribeInContext")) return describeInContext(effect);
  if (!strcmp(action, "OfxImageEffectActionRender")) return render(effect, in);
  if (!strcmp(action, "OfxActionInstanceChanged")) {
    char *name = NULL;
    P->getString(in, "OfxPropName", 0, &name);
    if (name && !strcmp(name, "walk")) return walk(effect);
  }
  return 14; /* kOfxStatReplyDefault */
}

static OfxPlugin plugin = {"OfxImageEffectPluginAPI", 1, "org.ned.tests.HostProbe", 1, 0, setHost, mainEntry};
EXPORT int OfxGetNumberOfPlugins(void) { return 1; }
EXPORT OfxPlugin *OfxGetPlugin(int n) { return n == 0 ? &plugin : NULL; }
