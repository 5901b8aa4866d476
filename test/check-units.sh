#!/bin/sh
# The service units' sandbox as systemd rates it (systemd-analyze security
# --offline, which needs no running systemd): each unit at most 2.0, the
# issue's bound; prints TAP. Skipped without systemd-analyze.
#   check-units.sh BUILDDIR
set -u
dir=$1/dist
if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP no systemd-analyze"
	exit 0
fi
n=0
failed=0
for u in xcrs-agent xcrs-authsrv; do
	n=$((n + 1))
	score=$(systemd-analyze security --offline=true "$dir/$u.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if systemd-analyze security --offline=true --threshold=20 \
		"$dir/$u.service" >/dev/null 2>&1; then
		echo "ok $n - $u.service: exposure $score (at most 2.0)"
	else
		echo "not ok $n - $u.service: exposure ${score:-?} (over 2.0)"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
