// mlpctl: the command-line client of mlpd.
//
// Exit codes: 0 ok; 1 the server refused (printed as "CODE_NAME: message"); 2 usage error
// (bad flags, unreadable local files); 130 a train cancelled with Ctrl-C.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/numeric/int128.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/batch_proto.h"
#include "client/client.h"
#include "client/data_flags.h"
#include "client/grpc_status.h"
#include "client/spec_flags.h"
#include "client/train_progress.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace mlpd {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

struct GlobalFlags {
  std::string server;
  bool json = false;
  double timeout_seconds = 60;
  int64_t max_message_mb = kDefaultMaxMessageBytes >> 20;
  bool timeout_given = false;
  std::string token_file;
  ClientSecurityOptions security;
};

int UsageError(absl::string_view message) {
  std::cerr << "mlpctl: " << message << "\n";
  return kExitUsage;
}

int Refused(const absl::Status& status) {
  std::cerr << StatusLine(status) << "\n";
  return kExitRefused;
}

// ReadFile reads a whole file given by `flag`; a directory or an empty file is an error, as
// neither is what any flag means (an ifstream would read a directory as empty).
absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view flag) {
  std::error_code not_checked;
  if (std::filesystem::is_directory(path, not_checked)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": \"", path, "\" is a directory, expected a file"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read \"", path, "\""));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (contents.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": \"", path, "\" is empty (0 bytes), expected a non-empty file"));
  }
  return contents.str();
}

absl::StatusOr<std::unique_ptr<Client>> MakeClient(const GlobalFlags& flags) {
  ClientOptions options;
  options.target = flags.server;
  if (!(flags.timeout_seconds > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout is ", flags.timeout_seconds, ", expected seconds > 0"));
  }
  options.timeout = absl::Seconds(flags.timeout_seconds);
  options.max_message_bytes = static_cast<int>(flags.max_message_mb << 20);
  // Chunks stay well under the limit whatever it is.
  options.upload_chunk_bytes = std::min(kDefaultUploadChunkBytes, (flags.max_message_mb << 20) / 2);
  options.security = flags.security;
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadFile(flags.token_file, "--token-file");
    if (!token.ok()) return token.status();
    std::string first_line = token->substr(0, token->find('\n'));
    options.token = std::string(absl::StripAsciiWhitespace(first_line));
    if (options.token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token-file: \"", flags.token_file, "\" has an empty first line"));
    }
  } else if (const char* token = std::getenv("MLPD_TOKEN"); token != nullptr) {
    options.token = std::string(absl::StripAsciiWhitespace(token));
  }
  return Client::Create(options);
}

// Train's deadline is only the one given explicitly: training may legitimately run for hours.
CallOptions TrainCallOptions(const GlobalFlags& flags) {
  CallOptions call;
  if (flags.timeout_given) call.timeout = absl::Seconds(flags.timeout_seconds);
  return call;
}

nlohmann::json SessionJson(const v1::SessionInfo& info) {
  std::string spec_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(info.spec(), &spec_json, options);
  std::string layers = absl::StrCat(info.spec().input_size());
  for (const v1::LayerSpec& layer : info.spec().layers())
    absl::StrAppend(&layers, "-", layer.units());
  return {{"name", info.name()},
          {"layers", layers},
          {"parameter_count", info.parameter_count()},
          {"step_count", info.step_count()},
          {"samples_seen", info.samples_seen()},
          {"last_loss", info.last_loss()},
          {"create_time_unix_ms", info.create_time_unix_ms()},
          {"update_time_unix_ms", info.update_time_unix_ms()},
          {"spec", nlohmann::json::parse(spec_json, nullptr, /*allow_exceptions=*/false)}};
}

nlohmann::json DatasetJson(const v1::DatasetInfo& info) {
  return {{"name", info.name()},
          {"rows", info.rows()},
          {"input_size", info.input_size()},
          {"target_size", info.target_size()},
          {"has_labels", info.has_labels()},
          {"bytes", info.bytes()},
          {"create_time_unix_ms", info.create_time_unix_ms()}};
}

std::string DatasetKind(const v1::DatasetInfo& info) {
  return info.has_labels() ? "labels" : absl::StrCat(info.target_size(), " targets");
}

void PrintSession(const v1::SessionInfo& info) {
  std::cout << "name:        " << info.name() << "\n"
            << "spec:        " << SpecSummary(info.spec()) << "\n"
            << "parameters:  " << info.parameter_count() << "\n"
            << "steps:       " << info.step_count() << "\n"
            << "samples:     " << info.samples_seen() << "\n"
            << "last loss:   " << info.last_loss() << "\n";
}

// Interrupts reach the train command through a pipe: a signal handler may only do
// async-signal-safe work, while cancelling a gRPC call takes locks.
int interrupt_pipe[2] = {-1, -1};
std::atomic<int> interrupt_count{0};

extern "C" void OnInterrupt(int) {
  // A second Ctrl-C means "now": the user no longer waits for the clean stop.
  if (interrupt_count.fetch_add(1) >= 1) _exit(kExitInterrupted);
  const char byte = 'c';
  ssize_t written = write(interrupt_pipe[1], &byte, 1);
  (void)written;
}

// InterruptWatcher cancels `cancellation` on the first SIGINT while it is alive.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(Cancellation* cancellation) {
    if (pipe(interrupt_pipe) != 0) return;
    struct sigaction action = {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
    installed_ = true;
    thread_ = std::thread([cancellation] {
      char byte = 0;
      while (read(interrupt_pipe[0], &byte, 1) < 0 && errno == EINTR) {
      }
      if (byte == 'c') cancellation->Cancel();
    });
  }
  ~InterruptWatcher() {
    if (!installed_) return;
    sigaction(SIGINT, &previous_, nullptr);
    const char byte = 'q';
    ssize_t written = write(interrupt_pipe[1], &byte, 1);
    (void)written;
    thread_.join();
    close(interrupt_pipe[0]);
    close(interrupt_pipe[1]);
  }

 private:
  bool installed_ = false;
  struct sigaction previous_ = {};
  std::thread thread_;
};

// Subcommand flags, filled by CLI11.
struct SessionFlags {
  std::string name;
};

// IntegerFlag checks an integer flag's typed text against [minimum, maximum] and rewrites it in
// decimal for CLI11, which alone would clamp an overflow to the type's limit, wrap "-1" around
// in an unsigned seed and read "010" as octal, all silently.
CLI::Validator IntegerFlag(absl::int128 minimum,
                           absl::int128 maximum = std::numeric_limits<int64_t>::max()) {
  return CLI::Validator(
      [minimum, maximum](std::string& text) -> std::string {
        constexpr const char* kNotInteger = "is not a decimal integer";
        absl::int128 value = 0;
        const char* problem = nullptr;
        if (!absl::SimpleAtoi(text, &value)) {
          problem = kNotInteger;
        } else if (value < minimum || value > maximum) {
          problem = "is out of range";
        }
        if (problem == nullptr) {
          std::ostringstream decimal;
          decimal << value;
          text = decimal.str();
          return "";
        }
        // A bound that is only the type's limit is named when it is the one exceeded.
        std::ostringstream expected;
        expected << "expected an integer ";
        if (maximum < std::numeric_limits<int64_t>::max()) {
          expected << "from " << minimum << " to " << maximum;
        } else if (problem != kNotInteger && value > maximum) {
          expected << "<= " << maximum;
        } else {
          expected << ">= " << minimum;
        }
        return absl::StrCat("\"", text, "\" ", problem, ", ", expected.str());
      },
      /*validator_desc=*/"");
}

// Float32Flag checks a float flag's typed text, so the error quotes what was typed ("1e99")
// instead of what it became (inf, blamed on a spec field).
CLI::Validator Float32Flag() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!absl::SimpleAtod(text, &value)) return absl::StrCat("\"", text, "\" is not a number");
        const std::string problem = Float32Problem(value);
        return problem.empty() ? "" : absl::StrCat("\"", text, "\" ", problem);
      },
      /*validator_desc=*/"");
}

void AddDataOptions(CLI::App* command, DataFlags* data, bool preprocessing) {
  command->add_option("--idx-images", data->idx_images, "IDX image file (e.g. MNIST)");
  command->add_option("--idx-labels", data->idx_labels, "IDX label file matching --idx-images");
  command->add_option("--csv", data->csv, "CSV file of numbers, one row per line; - for stdin");
  command->add_flag("--label-column", data->label_column,
                    "The last CSV column is an int class label");
  command
      ->add_option("--target-columns", data->target_columns,
                   "The last K CSV columns are float targets")
      ->transform(IntegerFlag(0));
  command->add_option("--limit", data->limit, "Keep only the first N rows (default: all)")
      ->transform(IntegerFlag(1));
  command->add_option("--normalize", data->normalize,
                      "MEAN,STD to standardise x, or 'fit' to compute them on this data");
  if (preprocessing) {
    command
        ->add_option("--one-hot", data->one_hot,
                     "Turn class labels into one-hot float targets with this value at the "
                     "label (e.g. 0.9)")
        ->check(Float32Flag());
    command->add_option("--one-hot-base", data->one_hot_base,
                        "Value of the other one-hot entries: 0 (default) or -1");
    command
        ->add_option("--classes-count", data->classes,
                     "Width of the one-hot targets (default: largest label + 1)")
        ->transform(IntegerFlag(1));
  }
}

absl::StatusOr<LoadedData> LoadForCommand(const DataFlags& data) {
  absl::StatusOr<LoadedData> loaded = LoadData(data);
  if (!loaded.ok()) return loaded.status();
  if (loaded->dataset.rows() == 0) return absl::InvalidArgumentError("the data has no rows");
  return loaded;
}

void PrintEvaluation(const v1::EvaluateResponse& response, bool json) {
  if (json) {
    nlohmann::json line = {{"loss", response.loss()}, {"count", response.count()}};
    line["error_rate"] =
        response.has_error_rate() ? nlohmann::json(response.error_rate()) : nlohmann::json();
    std::cout << line.dump() << "\n";
    return;
  }
  std::cout << absl::StrFormat("loss %.6g", response.loss());
  if (response.has_error_rate()) {
    std::cout << absl::StrFormat(" error_rate %.4f (%.2f%%)", response.error_rate(),
                                 100 * response.error_rate());
  }
  std::cout << " count " << response.count() << "\n";
}

absl::StatusOr<v1::ExportFormat> ParseFormat(const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "native") return v1::NATIVE;
  if (lower == "onnx") return v1::ONNX;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: \"", text, "\" is not one of native, onnx"));
}

std::string Example(absl::string_view lines) { return absl::StrCat("\nExample:\n", lines, "\n"); }

int Run(int argc, char** argv) {
  CLI::App app{
      "mlpctl: create, train, evaluate, predict with and export MLP sessions on an mlpd "
      "server.\nExit codes: 0 ok, 1 the server refused, 2 usage error, 130 interrupted."};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalFlags global;
  const char* env_server = std::getenv("MLPD_SERVER");
  global.server = env_server != nullptr && *env_server != '\0' ? env_server : "127.0.0.1:50051";
  app.add_option("--server", global.server,
                 "host:port or unix:/path of the server (default $MLPD_SERVER, else "
                 "127.0.0.1:50051)");
  app.add_flag("--json", global.json, "Machine-readable JSON output");
  CLI::Option* timeout_option =
      app.add_option("--timeout", global.timeout_seconds,
                     "Deadline of each call in seconds (default 60; train has none unless given)");
  app.add_option("--max-message-mb", global.max_message_mb,
                 "Largest message sent or received; match the server's --max-message-mb")
      ->transform(IntegerFlag(1, 2047))
      ->capture_default_str();
  app.add_option("--token-file", global.token_file,
                 "File whose first line is the bearer token (default: $MLPD_TOKEN)");
  app.add_option("--tls-ca", global.security.tls_ca_file, "PEM CA of the server: enables TLS");
  app.add_option("--tls-cert", global.security.tls_cert_file, "PEM client certificate (mTLS)");
  app.add_option("--tls-key", global.security.tls_key_file, "PEM client key (mTLS)");
  app.add_option("--tls-server-name", global.security.tls_server_name,
                 "Name to check in the server certificate instead of the host");
  app.footer(
      Example("  export MLPD_SERVER=127.0.0.1:50051\n"
              "  mlpctl create digits --layers 784,50,10 --activations tanh,tanh --loss mse \\\n"
              "      --reduction sum --optimizer sgd --lr 1e-4 --init normal:1e-6 --seed 0\n"
              "Run 'mlpctl COMMAND --help' for each command's flags and example."));

  // create
  std::string name;
  SpecFlags spec_flags;
  CLI::App* create = app.add_subcommand("create", "Create a session with fresh weights");
  create->add_option("NAME", name, "Session name")->required();
  create->add_option("--layers", spec_flags.layers, "Input size then each layer's units")
      ->required();
  create
      ->add_option("--activations", spec_flags.activations,
                   "One per layer (or one for all): identity, relu, tanh, sigmoid")
      ->required();
  create->add_option("--loss", spec_flags.loss, "mse, cross_entropy or logistic")
      ->capture_default_str();
  create->add_option("--reduction", spec_flags.reduction, "mean or sum (default: mean)");
  create->add_option("--optimizer", spec_flags.optimizer, "sgd, momentum or adam")
      ->capture_default_str();
  create->add_option("--lr", spec_flags.learning_rate, "Learning rate")
      ->check(Float32Flag())
      ->capture_default_str();
  create->add_option("--momentum", spec_flags.momentum, "momentum: coefficient (default 0.9)")
      ->check(Float32Flag());
  create->add_option("--beta1", spec_flags.beta1, "adam: beta1 (default 0.9)")
      ->check(Float32Flag());
  create->add_option("--beta2", spec_flags.beta2, "adam: beta2 (default 0.999)")
      ->check(Float32Flag());
  create->add_option("--eps", spec_flags.epsilon, "adam: epsilon (default 1e-8)")
      ->check(Float32Flag());
  create->add_option("--init", spec_flags.init, "normal:STD, uniform:A, xavier or kaiming")
      ->capture_default_str();
  create->add_option("--seed", spec_flags.seed, "Seed of the initialisation")
      ->transform(IntegerFlag(0, std::numeric_limits<uint64_t>::max()))
      ->capture_default_str();
  create->footer(
      Example("  mlpctl create practical --layers 784,50,10 --activations tanh,tanh --loss mse \\\n"
              "      --reduction sum --optimizer sgd --lr 1e-4 --init normal:1e-6 --seed 0"));

  // Dataset calls name no session; behind a proxy that routes on the session header (see
  // deploy/), --session sends them to the server holding that session.
  std::string routing_session;
  const char* const kRouteHelp =
      "With the dataset flag: route the call to the server holding this session (behind a proxy)";
  CLI::App* get = app.add_subcommand("get", "Describe a session (or a dataset)");
  get->add_option("NAME", name, "Session name")->required();
  bool dataset_object = false;
  CLI::Option* get_dataset = get->add_flag("--dataset", dataset_object, "NAME is a dataset");
  get->add_option("--session", routing_session, kRouteHelp)->needs(get_dataset);
  get->footer(
      Example("  mlpctl get practical\n  mlpctl get --dataset train --json\n"
              "  mlpctl get --dataset train --session practical"));

  CLI::App* list = app.add_subcommand("list", "List sessions (or datasets)");
  CLI::Option* list_datasets =
      list->add_flag("--datasets", dataset_object, "List datasets instead of sessions");
  list->add_option("--session", routing_session, kRouteHelp)->needs(list_datasets);
  list->footer(Example("  mlpctl list\n  mlpctl list --datasets --json"));

  CLI::App* remove = app.add_subcommand("delete", "Delete a session (or a dataset)");
  remove->add_option("NAME", name, "Session name")->required();
  CLI::Option* remove_dataset = remove->add_flag("--dataset", dataset_object, "NAME is a dataset");
  remove->add_option("--session", routing_session, kRouteHelp)->needs(remove_dataset);
  remove->footer(Example("  mlpctl delete practical\n  mlpctl delete --dataset train"));

  CLI::App* save = app.add_subcommand("save", "Write a durable snapshot of a session");
  save->add_option("NAME", name, "Session name")->required();
  save->footer(Example("  mlpctl save practical"));

  CLI::App* health =
      app.add_subcommand("health", "Ask the server's health service; exit 0 only when SERVING");
  std::string health_service;
  health->add_option("--service", health_service,
                     "Ask about one service (e.g. mlpd.v1.Mlpd) instead of the whole server");
  health->footer(
      Example("  mlpctl health || echo not ready\n  mlpctl health --service mlpd.v1.Mlpd"));

  // upload
  DataFlags data;
  CLI::App* upload = app.add_subcommand("upload", "Upload a dataset (IDX or CSV) under a name");
  upload->add_option("DATASET", name, "Dataset name")->required();
  AddDataOptions(upload, &data, /*preprocessing=*/true);
  upload->add_option("--session", routing_session,
                     "Route the dataset to the server holding this session (behind a proxy)");
  upload->footer(Example(
      "  mlpctl upload train --idx-images data/mnist/train-images-idx3-ubyte \\\n"
      "      --idx-labels data/mnist/train-labels-idx1-ubyte --limit 1000 --normalize fit \\\n"
      "      --one-hot 0.9\n"
      "  mlpctl upload iris --csv iris.csv --label-column"));

  // train
  std::string dataset;
  std::string eval_dataset;
  int64_t epochs = 1;
  std::string batch_size = "full";
  bool shuffle = false;
  uint64_t shuffle_seed = 0;
  int64_t report_every = 0;
  CLI::App* train = app.add_subcommand("train", "Train a session over an uploaded dataset");
  train->add_option("NAME", name, "Session name")->required();
  train->add_option("--dataset", dataset, "Training dataset")->required();
  train->add_option("--epochs", epochs, "Epochs to run")
      ->transform(IntegerFlag(1))
      ->capture_default_str();
  train->add_option("--batch-size", batch_size, "Rows per step, or 'full' for the whole dataset")
      ->capture_default_str();
  train->add_flag("--shuffle", shuffle, "Reshuffle the rows every epoch");
  train->add_option("--seed", shuffle_seed, "Seed of the shuffle")
      ->transform(IntegerFlag(0, std::numeric_limits<uint64_t>::max()))
      ->capture_default_str();
  train->add_option("--eval", eval_dataset, "Dataset evaluated at each report and at the end");
  train
      ->add_option("--report-every", report_every,
                   "Report progress every N steps (default: once per epoch)")
      ->transform(IntegerFlag(0));
  train->footer(
      Example("  mlpctl train practical --dataset train --epochs 1000 --batch-size full \\\n"
              "      --report-every 100 --eval test\n"
              "Ctrl-C stops between mini-batches; the steps already applied stay applied."));

  // step
  CLI::App* step = app.add_subcommand("step", "Apply one training step on the rows of a CSV");
  step->add_option("NAME", name, "Session name")->required();
  AddDataOptions(step, &data, /*preprocessing=*/true);
  step->footer(Example("  mlpctl step xor --csv xor.csv --target-columns 1"));

  // evaluate
  CLI::App* evaluate = app.add_subcommand("evaluate", "Loss and error rate on a dataset");
  evaluate->add_option("NAME", name, "Session name")->required();
  evaluate->add_option("--dataset", dataset, "Uploaded dataset (or give --csv with columns)");
  AddDataOptions(evaluate, &data, /*preprocessing=*/true);
  evaluate->footer(
      Example("  mlpctl --json evaluate practical --dataset test\n"
              "  {\"count\":1000,\"error_rate\":0.158,\"loss\":230.1}"));

  // predict
  bool print_classes = false;
  CLI::App* predict =
      app.add_subcommand("predict", "Run the network on CSV rows: one output row per input row");
  predict->add_option("NAME", name, "Session name")->required();
  AddDataOptions(predict, &data, /*preprocessing=*/false);
  predict->add_flag("--classes", print_classes, "Print the predicted class of each row");
  predict->footer(Example(
      "  mlpctl predict practical --csv rows.csv --normalize 32.700928,77.810455 --classes\n"
      "  cat rows.csv | mlpctl predict xor --csv -\n"
      "Columns given by --label-column / --target-columns are read and ignored."));

  // export / import
  std::string format = "native";
  std::string file;
  CLI::App* export_command = app.add_subcommand("export", "Write a session to a file");
  export_command->add_option("NAME", name, "Session name")->required();
  export_command->add_option("--format", format, "native (checkpoint) or onnx")
      ->capture_default_str();
  export_command->add_option("-o,--output", file, "Output file")->required();
  export_command->footer(Example("  mlpctl export practical --format onnx -o practical.onnx"));

  CLI::App* import_command = app.add_subcommand("import", "Create a session from a native export");
  import_command->add_option("NAME", name, "Name of the new session")->required();
  import_command->add_option("-i,--input", file, "File written by 'mlpctl export'")->required();
  import_command->add_option("--format", format, "native")->capture_default_str();
  import_command->footer(Example("  mlpctl import practical-copy -i practical.ckpt"));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  global.timeout_given = timeout_option->count() > 0;
  const bool json = global.json;

  absl::StatusOr<std::unique_ptr<Client>> made = MakeClient(global);
  if (!made.ok()) return UsageError(made.status().message());
  Client& client = **made;

  if (create->parsed()) {
    absl::StatusOr<v1::ModelSpec> spec = SpecFromFlags(spec_flags);
    if (!spec.ok()) return UsageError(spec.status().message());
    absl::StatusOr<v1::SessionInfo> info = client.CreateSession(name, *spec);
    if (!info.ok()) return Refused(info.status());
    if (json) {
      std::cout << SessionJson(*info).dump() << "\n";
    } else {
      std::cout << "created session " << info->name() << ": " << SpecSummary(info->spec()) << " ("
                << info->parameter_count() << " parameters)\n";
    }
    return kExitOk;
  }

  CallOptions dataset_call;
  dataset_call.routing_session = routing_session;

  if (get->parsed()) {
    if (dataset_object) {
      absl::StatusOr<v1::DatasetInfo> info = client.GetDataset(name, dataset_call);
      if (!info.ok()) return Refused(info.status());
      if (json) {
        std::cout << DatasetJson(*info).dump() << "\n";
      } else {
        std::cout << info->name() << ": " << info->rows() << " rows, " << info->input_size()
                  << " inputs, " << DatasetKind(*info) << ", " << info->bytes() << " bytes\n";
      }
      return kExitOk;
    }
    absl::StatusOr<v1::SessionInfo> info = client.GetSession(name);
    if (!info.ok()) return Refused(info.status());
    if (json) {
      std::cout << SessionJson(*info).dump() << "\n";
    } else {
      PrintSession(*info);
    }
    return kExitOk;
  }

  if (list->parsed()) {
    if (dataset_object) {
      absl::StatusOr<std::vector<v1::DatasetInfo>> datasets = client.ListDatasets(dataset_call);
      if (!datasets.ok()) return Refused(datasets.status());
      if (json) {
        nlohmann::json all = nlohmann::json::array();
        for (const v1::DatasetInfo& info : *datasets) all.push_back(DatasetJson(info));
        std::cout << all.dump() << "\n";
        return kExitOk;
      }
      std::cout << absl::StrFormat("%-24s %8s %6s %-12s %12s\n", "NAME", "ROWS", "INPUTS", "KIND",
                                   "BYTES");
      for (const v1::DatasetInfo& info : *datasets) {
        std::cout << absl::StrFormat("%-24s %8d %6d %-12s %12d\n", info.name(), info.rows(),
                                     info.input_size(), DatasetKind(info), info.bytes());
      }
      return kExitOk;
    }
    absl::StatusOr<std::vector<v1::SessionInfo>> sessions = client.ListSessions();
    if (!sessions.ok()) return Refused(sessions.status());
    if (json) {
      nlohmann::json all = nlohmann::json::array();
      for (const v1::SessionInfo& info : *sessions) all.push_back(SessionJson(info));
      std::cout << all.dump() << "\n";
      return kExitOk;
    }
    std::cout << absl::StrFormat("%-24s %10s %10s %-12s %s\n", "NAME", "STEPS", "PARAMS",
                                 "LAST_LOSS", "SPEC");
    for (const v1::SessionInfo& info : *sessions) {
      std::cout << absl::StrFormat("%-24s %10d %10d %-12g %s\n", info.name(), info.step_count(),
                                   info.parameter_count(), info.last_loss(),
                                   SpecSummary(info.spec()));
    }
    return kExitOk;
  }

  if (remove->parsed()) {
    absl::Status status =
        dataset_object ? client.DeleteDataset(name, dataset_call) : client.DeleteSession(name);
    if (!status.ok()) return Refused(status);
    if (json) {
      std::cout << nlohmann::json{{"deleted", name}}.dump() << "\n";
    } else {
      std::cout << "deleted " << (dataset_object ? "dataset " : "session ") << name << "\n";
    }
    return kExitOk;
  }

  if (save->parsed()) {
    absl::StatusOr<int64_t> saved = client.SaveSession(name);
    if (!saved.ok()) return Refused(saved.status());
    if (json) {
      std::cout << nlohmann::json{{"name", name}, {"step_count", *saved}}.dump() << "\n";
    } else {
      std::cout << "saved session " << name << " at step " << *saved << "\n";
    }
    return kExitOk;
  }

  if (health->parsed()) {
    absl::StatusOr<HealthStatus> status = client.Health(health_service);
    if (!status.ok()) return Refused(status.status());
    if (json) {
      std::cout << nlohmann::json{{"status", HealthStatusName(*status)}}.dump() << "\n";
    } else {
      std::cout << HealthStatusName(*status) << "\n";
    }
    return *status == HealthStatus::kServing ? kExitOk : kExitRefused;
  }

  if (upload->parsed()) {
    absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
    if (!loaded.ok()) return UsageError(loaded.status().message());
    CallOptions call;
    call.routing_session = routing_session;
    // Large uploads take longer than one small call's deadline; scale it with the payload.
    call.timeout = absl::Seconds(global.timeout_seconds) +
                   absl::Seconds(static_cast<double>(loaded->dataset.ByteSize()) / (10 << 20));
    absl::StatusOr<v1::DatasetInfo> info = client.UploadDataset(name, loaded->dataset, call);
    if (!info.ok()) return Refused(info.status());
    if (json) {
      nlohmann::json line = DatasetJson(*info);
      if (loaded->standardization.has_value()) {
        line["mean"] = loaded->standardization->mean;
        line["std"] = loaded->standardization->std;
      }
      std::cout << line.dump() << "\n";
      return kExitOk;
    }
    if (loaded->standardization.has_value() && data.normalize == "fit") {
      std::cout << absl::StrFormat(
          "normalize: mean=%.9g std=%.9g (reuse on other data with --normalize %.9g,%.9g)\n",
          loaded->standardization->mean, loaded->standardization->std,
          loaded->standardization->mean, loaded->standardization->std);
    }
    std::cout << "uploaded dataset " << info->name() << ": " << info->rows() << " rows, "
              << info->input_size() << " inputs, " << DatasetKind(*info) << "\n";
    return kExitOk;
  }

  if (train->parsed()) {
    v1::TrainRequest request;
    request.set_name(name);
    request.set_dataset(dataset);
    request.set_epochs(epochs);
    if (batch_size != "full") {
      int64_t rows = 0;
      if (!absl::SimpleAtoi(batch_size, &rows) || rows < 1) {
        return UsageError(absl::StrCat("--batch-size: \"", batch_size,
                                       "\" is neither a positive integer nor 'full'"));
      }
      request.set_batch_size(rows);
    }
    request.set_shuffle(shuffle);
    request.set_seed(shuffle_seed);
    request.set_eval_dataset(eval_dataset);
    request.set_report_every_steps(report_every);

    // The step count before training tells how many steps a cancelled call applied.
    absl::StatusOr<v1::SessionInfo> before = client.GetSession(name);
    if (!before.ok()) return Refused(before.status());

    const bool terminal = !json && isatty(STDERR_FILENO);
    const auto start = std::chrono::steady_clock::now();
    bool bar_drawn = false;
    double last_samples_per_second = 0;
    auto on_progress = [&](const v1::TrainProgress& progress) {
      TrainProgressView view;
      view.epochs = epochs;
      view.elapsed_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (json) {
        std::cout << ProgressJsonLine(progress, view) << std::endl;
      } else if (terminal) {
        std::cerr << "\r\033[K" << ProgressBarLine(progress, view) << std::flush;
        bar_drawn = true;
        last_samples_per_second = progress.samples_per_second();
      } else {
        std::cout << ProgressPlainLine(progress, view) << std::endl;
      }
    };
    Cancellation cancellation;
    CallOptions call = TrainCallOptions(global);
    call.cancellation = &cancellation;
    absl::StatusOr<v1::TrainSummary> summary;
    {
      InterruptWatcher watcher(&cancellation);
      summary = client.Train(request, on_progress, call);
    }
    if (bar_drawn) {
      // The last report may predate the last steps; finish the bar at what was done.
      if (summary.ok()) {
        v1::TrainProgress done;
        done.set_epoch(summary->epochs());
        done.set_step(summary->step());
        done.set_steps_done(summary->steps());
        done.set_steps_total(summary->steps());
        done.set_loss(summary->last_loss());
        done.set_samples_per_second(last_samples_per_second);
        TrainProgressView view;
        view.epochs = epochs;
        view.elapsed_seconds = summary->seconds();
        std::cerr << "\r\033[K" << ProgressBarLine(done, view);
      }
      std::cerr << "\n";
    }
    if (!summary.ok() && cancellation.cancelled()) {
      // The server stops at its next mini-batch boundary; wait until the count stops moving.
      absl::StatusOr<v1::SessionInfo> after = client.GetSession(name);
      for (int attempt = 0; attempt < 50 && after.ok(); ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        absl::StatusOr<v1::SessionInfo> again = client.GetSession(name);
        if (!again.ok() || again->step_count() == after->step_count()) break;
        after = std::move(again);
      }
      const int64_t applied = after.ok() ? after->step_count() - before->step_count() : -1;
      if (json) {
        std::cout << nlohmann::json{{"event", "cancelled"},
                                    {"steps", applied},
                                    {"step", after.ok() ? after->step_count() : -1}}
                         .dump()
                  << std::endl;
      } else {
        std::cerr << "cancelled: " << applied << " steps applied (session " << name
                  << " is at step " << (after.ok() ? after->step_count() : -1) << ")\n";
      }
      return kExitInterrupted;
    }
    if (!summary.ok()) return Refused(summary.status());
    if (json) {
      std::cout << SummaryJsonLine(*summary) << std::endl;
    } else {
      std::cout << absl::StrFormat(
          "trained %s: %d steps, %d epochs in %.3fs, last loss %.6g, session step %d", name,
          summary->steps(), summary->epochs(), summary->seconds(), summary->last_loss(),
          summary->step());
      if (summary->has_eval()) {
        std::cout << absl::StrFormat(", eval loss %.6g", summary->eval_loss());
        if (summary->eval_has_error_rate()) {
          std::cout << absl::StrFormat(" error_rate %.4f", summary->eval_error_rate());
        }
      }
      std::cout << "\n";
    }
    return kExitOk;
  }

  if (step->parsed()) {
    absl::Status has_targets = RequireTargets(data, "step");
    if (!has_targets.ok()) return UsageError(has_targets.message());
    absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
    if (!loaded.ok()) return UsageError(loaded.status().message());
    v1::Batch batch;
    DatasetRowsToBatch(loaded->dataset, 0, loaded->dataset.rows(), &batch);
    absl::StatusOr<v1::TrainStepResponse> response = client.TrainStep(name, batch);
    if (!response.ok()) return Refused(response.status());
    if (json) {
      std::cout << nlohmann::json{{"loss", response->loss()}, {"step", response->step()}}.dump()
                << "\n";
    } else {
      std::cout << absl::StrFormat("step %d loss %.6g\n", response->step(), response->loss());
    }
    return kExitOk;
  }

  if (evaluate->parsed()) {
    absl::StatusOr<v1::EvaluateResponse> response;
    const bool inline_data = !data.csv.empty() || !data.idx_images.empty();
    if (inline_data == !dataset.empty()) {
      return UsageError("evaluate needs exactly one of --dataset or inline data (--csv, --idx-*)");
    }
    if (inline_data) {
      absl::Status has_targets = RequireTargets(data, "evaluate");
      if (!has_targets.ok()) return UsageError(has_targets.message());
      absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
      if (!loaded.ok()) return UsageError(loaded.status().message());
      v1::Batch batch;
      DatasetRowsToBatch(loaded->dataset, 0, loaded->dataset.rows(), &batch);
      response = client.EvaluateBatch(name, batch);
    } else {
      response = client.Evaluate(name, dataset);
    }
    if (!response.ok()) return Refused(response.status());
    PrintEvaluation(*response, json);
    return kExitOk;
  }

  if (predict->parsed()) {
    if (data.csv.empty()) return UsageError("predict needs --csv FILE (or - for stdin)");
    absl::StatusOr<LoadedData> loaded = LoadForCommand(data);
    if (!loaded.ok()) return UsageError(loaded.status().message());
    absl::StatusOr<v1::PredictResponse> response =
        client.PredictRows(name, loaded->dataset.x.view());
    if (!response.ok()) return Refused(response.status());
    absl::StatusOr<Matrix> outputs = TensorToMatrix(response->outputs(), "outputs");
    if (!outputs.ok()) return Refused(outputs.status());
    if (print_classes && response->classes_size() != outputs->rows) {
      return UsageError(
          "--classes: this session predicts no classes (an mse session with one output)");
    }
    if (json) {
      nlohmann::json rows = nlohmann::json::array();
      for (int64_t row = 0; row < outputs->rows; ++row) {
        rows.push_back(std::vector<float>(outputs->data.begin() + row * outputs->cols,
                                          outputs->data.begin() + (row + 1) * outputs->cols));
      }
      nlohmann::json result = {{"outputs", rows}};
      if (response->classes_size() > 0) {
        result["classes"] =
            std::vector<int32_t>(response->classes().begin(), response->classes().end());
      }
      std::cout << result.dump() << "\n";
      return kExitOk;
    }
    std::string text;
    for (int64_t row = 0; row < outputs->rows; ++row) {
      if (print_classes) {
        absl::StrAppend(&text, response->classes(row), "\n");
        continue;
      }
      for (int64_t column = 0; column < outputs->cols; ++column) {
        // %.9g keeps every float bit, so the CSV reads back to the same values.
        absl::StrAppendFormat(&text, column == 0 ? "%.9g" : ",%.9g",
                              outputs->data[row * outputs->cols + column]);
      }
      text.push_back('\n');
    }
    std::cout << text;
    return kExitOk;
  }

  if (export_command->parsed()) {
    absl::StatusOr<v1::ExportFormat> parsed = ParseFormat(format);
    if (!parsed.ok()) return UsageError(parsed.status().message());
    absl::StatusOr<std::string> bytes = client.ExportSession(name, *parsed);
    if (!bytes.ok()) return Refused(bytes.status());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    out.close();
    if (!out) return UsageError(absl::StrCat("--output: cannot write \"", file, "\""));
    if (json) {
      std::cout << nlohmann::json{{"name", name},
                                  {"format", absl::AsciiStrToLower(format)},
                                  {"bytes", bytes->size()},
                                  {"file", file}}
                       .dump()
                << "\n";
    } else {
      std::cout << "exported session " << name << " (" << absl::AsciiStrToLower(format) << ", "
                << bytes->size() << " bytes) to " << file << "\n";
    }
    return kExitOk;
  }

  if (import_command->parsed()) {
    absl::StatusOr<v1::ExportFormat> parsed = ParseFormat(format);
    if (!parsed.ok()) return UsageError(parsed.status().message());
    absl::StatusOr<std::string> bytes = ReadFile(file, "--input");
    if (!bytes.ok()) return UsageError(bytes.status().message());
    absl::StatusOr<v1::SessionInfo> info = client.ImportSession(name, *parsed, *bytes);
    if (!info.ok()) return Refused(info.status());
    if (json) {
      std::cout << SessionJson(*info).dump() << "\n";
    } else {
      std::cout << "imported session " << info->name() << ": " << SpecSummary(info->spec())
                << " at step " << info->step_count() << "\n";
    }
    return kExitOk;
  }
  return UsageError("no command given; see mlpctl --help");
}

}  // namespace
}  // namespace mlpd

int main(int argc, char** argv) { return mlpd::Run(argc, argv); }
