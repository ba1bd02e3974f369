#include "ofx/ofx_props.h"

#include "ofx/ofx_host.h"

namespace ofx {
namespace {

const OfxPropertySuiteV1& props() { return *suites().property; }

std::string describe(const char* verb, const char* name) { return std::string(verb) + " property " + name; }

}  // namespace

void PropertySet::setString(const char* name, const std::string& value, int index) const {
  check(props().propSetString(handle_, name, index, value.c_str()), describe("setting", name));
}

void PropertySet::setStrings(const char* name, std::initializer_list<const char*> values) const {
  int index = 0;
  for (const char* value : values) {
    check(props().propSetString(handle_, name, index++, value), describe("setting", name));
  }
}

void PropertySet::setInt(const char* name, int value, int index) const {
  check(props().propSetInt(handle_, name, index, value), describe("setting", name));
}

void PropertySet::setInts(const char* name, std::initializer_list<int> values) const {
  int index = 0;
  for (int value : values) {
    check(props().propSetInt(handle_, name, index++, value), describe("setting", name));
  }
}

void PropertySet::setDouble(const char* name, double value, int index) const {
  check(props().propSetDouble(handle_, name, index, value), describe("setting", name));
}

void PropertySet::setPointer(const char* name, void* value) const {
  check(props().propSetPointer(handle_, name, 0, value), describe("setting", name));
}

std::string PropertySet::getString(const char* name, int index) const {
  char* value = nullptr;
  check(props().propGetString(handle_, name, index, &value), describe("reading", name));
  return value != nullptr ? std::string(value) : std::string();
}

int PropertySet::getInt(const char* name, int index) const {
  int value = 0;
  check(props().propGetInt(handle_, name, index, &value), describe("reading", name));
  return value;
}

double PropertySet::getDouble(const char* name, int index) const {
  double value = 0.0;
  check(props().propGetDouble(handle_, name, index, &value), describe("reading", name));
  return value;
}

void* PropertySet::getPointer(const char* name) const {
  void* value = nullptr;
  check(props().propGetPointer(handle_, name, 0, &value), describe("reading", name));
  return value;
}

std::array<int, 4> PropertySet::getRect(const char* name) const {
  std::array<int, 4> rect{};
  check(props().propGetIntN(handle_, name, 4, rect.data()), describe("reading", name));
  return rect;
}

std::optional<std::string> PropertySet::findString(const char* name, int index) const {
  char* value = nullptr;
  if (props().propGetString(handle_, name, index, &value) != kStatOK || value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<int> PropertySet::findInt(const char* name, int index) const {
  int value = 0;
  if (props().propGetInt(handle_, name, index, &value) != kStatOK) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> PropertySet::findDouble(const char* name, int index) const {
  double value = 0.0;
  if (props().propGetDouble(handle_, name, index, &value) != kStatOK) {
    return std::nullopt;
  }
  return value;
}

int PropertySet::dimension(const char* name) const {
  int count = 0;
  if (props().propGetDimension(handle_, name, &count) != kStatOK) {
    return 0;
  }
  return count;
}

}  // namespace ofx
