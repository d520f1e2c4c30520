// A device's property table: the supported properties with their current values, validated against the
// runtime's registry of known properties.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sluice/properties.hpp"

namespace sluice::dev {

// Not thread-safe by itself: the owner guards it (plugins with a mutex; compiled models freeze it).
class PropertyStore {
 public:
  // `device` names the owner in errors. Each entry: a known property name and its default value (an
  // empty Any for read-only properties computed by the owner).
  PropertyStore(std::string device, std::map<std::string, Any> defaults);

  // Validates and applies; throws sluice::Error naming an unknown or read-only property (listing the
  // supported ones) or a bad value (listing what is accepted). Nothing is applied when anything throws.
  void set(const AnyMap& properties);
  // A copy with `properties` applied on top (for compile_model's per-call properties).
  PropertyStore with(const AnyMap& properties) const;
  // The current value; throws naming the property and listing the supported ones when unknown.
  const Any& get(const std::string& name) const;
  void set_computed(const std::string& name, Any value);  // read-only values the owner computes
  bool supports(const std::string& name) const { return values_.count(name) != 0; }
  // Whether set() was given this property (on the device or for this compile), as opposed to its default:
  // an explicit NUM_STREAMS overrides the performance hint, a default one does not.
  bool is_set(const std::string& name) const { return explicitly_set_.count(name) != 0; }
  std::vector<std::string> names() const;  // SUPPORTED_PROPERTIES

 private:
  std::string device_;
  std::map<std::string, Any> values_;
  std::set<std::string> explicitly_set_;
};

}  // namespace sluice::dev
