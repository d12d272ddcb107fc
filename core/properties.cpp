#include "core/properties.hpp"

#include "core/error.hpp"

namespace lsmss {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::not_converged:
      return "not_converged";
    case Status::failed:
      return "failed";
    case Status::timeout:
      return "timeout";
  }
  return "unknown";
}

std::string property_mask_name(PropertyMask m) {
  std::string s;
  if (m & kEnergy) s += 'E';
  if (m & kCharge) s += 'C';
  if (m & kMoment) s += 'M';
  return s;
}

}  // namespace lsmss
