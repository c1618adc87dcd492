// job_output.h: how mlpctl prints training jobs.
//
// `jobs` prints a table (or a JSON array), `job` a description (or one JSON object), and
// `train --detach`, `cancel` and `watch` a line about one job. States are printed in lower
// case, as `jobs --state` takes them.
//
//   Print(json, JobJson(job), JobText(job));
#ifndef MLPD_CLIENT_MLPCTL_JOB_OUTPUT_H_
#define MLPD_CLIENT_MLPCTL_JOB_OUTPUT_H_

#include <string>
#include <vector>

#include "mlpd/v1/mlpd.pb.h"
#include "nlohmann/json.hpp"

namespace mlpd::mlpctl {

// JobStateName is "queued", "running", "succeeded", "failed" or "cancelled" ("unspecified" for
// anything else).
std::string JobStateName(v1::JobState state);

// JobJson: id, session, datasets, state, done, steps, epochs, times, resumes, the last progress,
// the evaluations, and the summary or the error ({"code": "CANCELLED", "message": ...}).
nlohmann::json JobJson(const v1::Job& job);

// JobLine: "job-1-1 running: session digits, step 40/200, epoch 2/10\n".
std::string JobLine(const v1::Job& job);

// JobText is the multi-line description `job` prints.
std::string JobText(const v1::Job& job);

// JobTable is `jobs`' aligned table, header first.
std::string JobTable(const std::vector<v1::Job>& jobs);

}  // namespace mlpd::mlpctl

#endif  // MLPD_CLIENT_MLPCTL_JOB_OUTPUT_H_
