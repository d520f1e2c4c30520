#include "sluice/dev/plugin_base.hpp"

namespace sluice::dev {

Any PluginBase::get_property(const std::string& name) const {
  std::lock_guard lock(mutex_);
  if (name == "SUPPORTED_PROPERTIES") return properties_.names();
  return properties_.get(name);
}

void PluginBase::set_property(const AnyMap& properties) {
  std::lock_guard lock(mutex_);
  properties_.set(properties);
}

PropertyStore PluginBase::properties_with(const AnyMap& properties) const {
  std::lock_guard lock(mutex_);
  return properties_.with(properties);
}

}  // namespace sluice::dev
