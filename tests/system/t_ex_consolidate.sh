#!/usr/bin/env bash
# The paper's first example, examples/consolidate (issue 15), run as it
# is: two subnets numbered alike consolidated onto one host, two servers
# and four clients on VLANs 10 and 20 over an LACP aggregation of two links
# between two vwired hosts.  Every claim the example prints (same addresses
# on both VLANs; every client reaches its own server and no frame crosses
# between the VLANs; LACP up, a link fails and every client still reaches
# its server, the link rejoins) is one check here, and the example must
# exit 0.  Its names begin with vwtec, so that the runner's sweep removes
# whatever a killed run left.
VWT_OWN="vwtec"
. "$(dirname "$0")/lib.sh"

rc=0
out=$(VWEX_PREFIX=vwtec VWT_BUILD="$VW_BIN" bash "$VW_ROOT/examples/consolidate/run.sh" 2>&1) || rc=$?
log "$out"
judge_claims "$out"
nclaims=$VW_CLAIMS
soft_done
# LACP up; 3 x same addresses; 2 servers, the wire, 4 clients; the link
# down, 4 clients across the failure, the rejoin, every client after it
expect_eq "every claim was judged" 18 "$nclaims"
expect_eq "the example exits 0" 0 "$rc"
