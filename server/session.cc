#include "server/session.h"

#include <utility>

#include "absl/time/clock.h"
#include "core/spec_proto.h"

namespace mlpd {

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

Session::Session(uint64_t id, std::string name, ModelSpec spec, int64_t create_time_unix_ms)
    : id(id),
      name(std::move(name)),
      spec(std::move(spec)),
      parameter_count(ParameterCount(this->spec)),
      memory_bytes(ModelStateBytes(this->spec)),
      create_time_unix_ms(create_time_unix_ms),
      update_time_unix_ms(create_time_unix_ms) {}

void Session::FillInfo(v1::SessionInfo* info) const {
  info->set_name(name);
  SpecToProto(spec, info->mutable_spec());
  info->set_parameter_count(parameter_count);
  info->set_step_count(step_count.load(std::memory_order_acquire));
  info->set_samples_seen(samples_seen.load(std::memory_order_relaxed));
  info->set_last_loss(last_loss.load(std::memory_order_relaxed));
  info->set_create_time_unix_ms(create_time_unix_ms);
  info->set_update_time_unix_ms(update_time_unix_ms.load(std::memory_order_relaxed));
}

void Session::PublishCounters(int64_t update_time) {
  samples_seen.store(model->samples_seen(), std::memory_order_relaxed);
  last_loss.store(model->last_loss(), std::memory_order_relaxed);
  update_time_unix_ms.store(update_time, std::memory_order_relaxed);
  step_count.store(model->step_count(), std::memory_order_release);
}

}  // namespace mlpd
