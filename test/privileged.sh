#!/bin/sh
# Runs a privileged test binary, or reports the whole binary skipped (TAP)
# when not root: the bpf and netns suites load BPF programs and create
# network namespaces.
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP $(basename "$1") needs root (CAP_BPF, CAP_NET_ADMIN)"
	exit 0
fi
exec "$@"
