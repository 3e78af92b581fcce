# Sourced by build-podman.sh and tests/deploy/check_image.sh: makes podman work
# on hosts where its defaults ask for more than the host allows. crun refuses a
# hybrid cgroup v1/v2 layout (runc copes), and raising RLIMIT_NOFILE/NPROC
# above the hard limit fails without CAP_SYS_RESOURCE, so the host's hard
# limits are kept. Sets CONTAINERS_CONF (a file in TCB_PODMAN_TMP, which the
# caller removes) and the array PODMAN_ULIMITS (podman build reads --ulimit,
# not containers.conf).
tcb_nofile=$(ulimit -Hn)
tcb_nproc=$(ulimit -Hu)
if [ "$tcb_nproc" = unlimited ] || [ "$tcb_nproc" -gt 32768 ]; then
  tcb_nproc=32768 # podman lowers its own hard limit to this for what it starts
fi
if [ "$tcb_nofile" = unlimited ] || [ "$tcb_nofile" -gt 1048576 ]; then
  tcb_nofile=1048576
fi
TCB_PODMAN_TMP=$(mktemp -d)
cat >"$TCB_PODMAN_TMP/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$tcb_nofile:$tcb_nofile", "nproc=$tcb_nproc:$tcb_nproc"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$TCB_PODMAN_TMP/containers.conf
PODMAN_ULIMITS=(--ulimit "nofile=$tcb_nofile:$tcb_nofile" --ulimit "nproc=$tcb_nproc:$tcb_nproc")
