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

Status status_from_name(std::string_view name) {
  for (Status s : {Status::ok, Status::not_converged, Status::failed, Status::timeout})
    if (status_name(s) == name) return s;
  fail("unknown status '{}' (expected ok, not_converged, failed, timeout)", name);
}

std::string property_mask_name(PropertyMask m) {
  std::string s;
  if (m & kEnergy) s += 'E';
  if (m & kCharge) s += 'C';
  if (m & kMoment) s += 'M';
  return s;
}

}  // namespace lsmss
