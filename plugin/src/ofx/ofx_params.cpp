#include "ofx/ofx_params.h"

#include "ofx/ofx_host.h"

namespace ofx {
namespace {

const OfxParameterSuiteV1& params() { return *suites().parameter; }

}  // namespace

PropertySet ParamSetDescriptor::define(const char* type, const char* name, const char* label,
                                       const char* hint) const {
  OfxPropertySetHandle handle = nullptr;
  check(params().paramDefine(handle_, type, name, &handle), std::string("defining parameter ") + name);
  PropertySet props(handle);
  props.setString(kPropLabel, label);
  props.setString(kParamPropHint, hint);
  return props;
}

Param::Param(OfxParamSetHandle paramSet, const char* name) : name_(name) {
  check(params().paramGetHandle(paramSet, name, &handle_, nullptr), std::string("finding parameter ") + name);
}

int Param::intAt(OfxTime time) const {
  int value = 0;
  check(params().paramGetValueAtTime(handle_, time, &value), std::string("reading parameter ") + name_);
  return value;
}

double Param::doubleAt(OfxTime time) const {
  double value = 0.0;
  check(params().paramGetValueAtTime(handle_, time, &value), std::string("reading parameter ") + name_);
  return value;
}

std::string Param::string() const {
  char* value = nullptr;
  check(params().paramGetValue(handle_, &value), std::string("reading parameter ") + name_);
  return value != nullptr ? std::string(value) : std::string();
}

bool Param::setString(const std::string& value) const {
  return params().paramSetValue(handle_, value.c_str()) == kStatOK;
}

}  // namespace ofx
