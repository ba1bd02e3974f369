// A thin typed view over an OFX property set. Getters throw OfxError when the host does not have
// the property; find* return std::nullopt instead. Strings returned by the host are copied at once.
#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <string>

#include "ofx/ofx_api.h"

namespace ofx {

class PropertySet {
 public:
  explicit PropertySet(OfxPropertySetHandle handle) : handle_(handle) {}

  OfxPropertySetHandle handle() const { return handle_; }

  void setString(const char* name, const std::string& value, int index = 0) const;
  void setStrings(const char* name, std::initializer_list<const char*> values) const;
  void setInt(const char* name, int value, int index = 0) const;
  void setInts(const char* name, std::initializer_list<int> values) const;
  void setDouble(const char* name, double value, int index = 0) const;
  void setPointer(const char* name, void* value) const;

  std::string getString(const char* name, int index = 0) const;
  int getInt(const char* name, int index = 0) const;
  double getDouble(const char* name, int index = 0) const;
  void* getPointer(const char* name) const;
  std::array<int, 4> getRect(const char* name) const;  // int x 4, e.g. bounds, render window

  std::optional<std::string> findString(const char* name, int index = 0) const;
  std::optional<int> findInt(const char* name, int index = 0) const;
  std::optional<double> findDouble(const char* name, int index = 0) const;

  // Number of values the property holds; 0 when the property is unknown.
  int dimension(const char* name) const;

 private:
  OfxPropertySetHandle handle_;
};

}  // namespace ofx
