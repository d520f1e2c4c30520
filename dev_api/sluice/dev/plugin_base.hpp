// A base for plugins whose device-wide properties live in a PropertyStore: get_property, set_property and
// the per-call properties of compile_model, done once for every device.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sluice/dev/plugin.hpp"
#include "sluice/dev/property_store.hpp"

namespace sluice::dev {

// Thread-safe: properties_ is guarded by mutex_.
class PluginBase : public IPlugin {
 public:
  explicit PluginBase(PropertyStore defaults) : properties_(std::move(defaults)) {}

  Any get_property(const std::string& name) const override;
  void set_property(const AnyMap& properties) override;
  // The operators of the model that have no definition: for devices that run every defined operator.
  std::vector<std::string> unsupported_operators(const Model& model) const override {
    return model.unsupported_operators();
  }

 protected:
  // The device's properties with those of one compile_model call applied on top (validated).
  PropertyStore properties_with(const AnyMap& properties) const;

 private:
  mutable std::mutex mutex_;
  PropertyStore properties_;
};

}  // namespace sluice::dev
