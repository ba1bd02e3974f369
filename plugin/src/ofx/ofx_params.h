// Parameter helpers: defining parameters on a descriptor, and reading/writing them on an instance.
#pragma once

#include <string>

#include "ofx/ofx_api.h"
#include "ofx/ofx_props.h"

namespace ofx {

// Defines parameters on a descriptor's parameter set.
class ParamSetDescriptor {
 public:
  explicit ParamSetDescriptor(OfxParamSetHandle handle) : handle_(handle) {}

  // Defines a parameter with its label and hint and returns its property set for the rest.
  PropertySet define(const char* type, const char* name, const char* label, const char* hint) const;

 private:
  OfxParamSetHandle handle_;
};

// One parameter of an effect instance. Getters throw OfxError when the host refuses.
class Param {
 public:
  Param(OfxParamSetHandle paramSet, const char* name);

  const char* name() const { return name_; }
  int intAt(OfxTime time) const;        // Integer, Choice, Boolean
  double doubleAt(OfxTime time) const;  // Double
  std::string string() const;           // String (not animated)
  // Returns false when the host refuses the new value (some hosts forbid it in some actions).
  bool setString(const std::string& value) const;

 private:
  const char* name_;
  OfxParamHandle handle_ = nullptr;
};

}  // namespace ofx
