# Sourced by mlpctl_common.bash and docker_common.bash (not a test itself): waiting for a line
# that a background mlpctl writes (a train's or a watch's progress), without polling.

# wait_for_line FILE PATTERN PID SECONDS [COUNT]: returns once FILE holds COUNT (default 1)
# lines matching the grep PATTERN. Fails (the sourcing script's `fail`) when PID exits or
# SECONDS pass first. `tail -F` follows the file as it grows (inotify) and stops with PID.
wait_for_line() {
  local file=$1 pattern=$2 pid=$3 seconds=$4 count=${5:-1} found follower follow_fd
  exec {follow_fd}< <(exec timeout "$seconds" tail -F -n +1 -s 0.1 --pid="$pid" "$file" 2>/dev/null)
  follower=$!
  found=$(grep -m "$count" -- "$pattern" <&"$follow_fd" | wc -l || true)
  kill "$follower" 2>/dev/null || true
  exec {follow_fd}<&-
  [ "$found" -ge "$count" ] && return 0
  kill -0 "$pid" 2>/dev/null ||
    fail "the process writing $file ended before $count line(s) matching '$pattern': $(tail -n 3 "$file")"
  fail "no $count line(s) matching '$pattern' in $file within $seconds s"
}
