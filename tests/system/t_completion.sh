#!/usr/bin/env bash
# Bash completion of vwadm, vwstat and vwsnoop (cli/completion/): a private
# daemon with an etherstub, a zone, two VNICs, a flow, a mirror and an
# exporter; the completion functions are driven as bash drives them
# (COMP_WORDS split at COMP_WORDBREAKS, COMP_CWORD, COMP_LINE, COMP_POINT)
# and their candidates checked: subcommands, options, names from the daemon
# (and from the daemon of --socket), properties and their values, fields,
# files; nothing and no message when no daemon answers.  The lists the
# completion keeps itself (properties by kind of object, their values, flow
# attributes, VNM properties by type) are compared with the daemon's and the
# sources', and every subcommand and option placeholder of `vwadm --help`
# must be known, so that they cannot drift apart.  Last, a real interactive
# bash with bash-completion, which loads each file by name from a
# share/bash-completion/completions directory as an installed system does,
# is typed at through a terminal.
VWT_OWN="vwt5"
. "$(dirname "$0")/lib.sh"

STUB=vwt5s ZONE=vwt5z VA=vwt5a VB=vwt5b FLOW=vwt5f MIR=vwt5m EXP=vwt5e
COMP=$VW_ROOT/cli/completion
NOSOCK=/tmp/vwt_completion_none.sock

mkdir -p "$VW_TMP"
: >"$VW_TMP/stderr.all"

# The driver: one bash that has sourced the three completion files and,
# for each request (VWIRE_SOCKET, LINE, AFTER; NUL-terminated) completes
# LINE (the cursor at its end, before AFTER) as bash does; prints each
# candidate as the whole word it makes of the cursor's word, sorted, one a
# line, then a line "\x1e".  The completion's stderr goes to the file $1.
cat >"$VW_TMP/drive.sh" <<'EOF'
. "$COMP/vwadm"
. "$COMP/vwstat"
. "$COMP/vwsnoop"
# bash's split: blanks, then runs of COMP_WORDBREAKS' '=' and ':' apart
split() {
	local w part run brk='=:'
	local -a ws
	read -ra ws <<<"$1"
	for w in "${ws[@]}"; do
		while [[ -n $w ]]; do
			if [[ $w == [$brk]* ]]; then
				run=${w%%[!$brk]*}
				toks+=("$run")
				w=${w#"$run"}
			else
				part=${w%%[$brk]*}
				toks+=("$part")
				w=${w#"$part"}
			fi
		done
	done
}
complete1() {
	local line=$1 after=$2 prog=${1%% *} word fn cw pre c
	toks=()
	split "$line"
	# the cursor after a blank: an empty word, unless a word follows (then
	# bash points COMP_CWORD at that one, and the word to complete is empty)
	[[ $line == *[[:space:]] && -z $after ]] && toks+=("")
	COMP_CWORD=$((${#toks[@]} - 1))
	word=${toks[COMP_CWORD]}
	[[ $line == *[[:space:]] && -n $after ]] && COMP_CWORD=${#toks[@]} word=
	[[ $word == [=:]* ]] && word=
	if [[ -n $after ]]; then
		[[ $after == [[:space:]]* ]] || { echo "drive.sh: AFTER must start with a blank" >&2; return 2; }
		split "$after"
	fi
	COMP_WORDS=("${toks[@]}")
	COMP_LINE=$line$after
	COMP_POINT=${#line}
	fn=_${prog##*/}
	COMPREPLY=()
	"$fn" "$prog" "$word" "${toks[COMP_CWORD - 1]}"
	# the cursor's whole word (blank-separated) before bash's own
	cw=${line##*[[:space:]]}
	pre=${cw%"$word"}
	for c in "${COMPREPLY[@]}"; do printf '%s\n' "$pre$c"; done | sort
}
while IFS= read -r -d '' sock && IFS= read -r -d '' line && IFS= read -r -d '' after; do
	export VWIRE_SOCKET=$sock
	complete1 "$line" "$after" 2>"$1"
	printf '\x1e\n'
done
EOF
coproc DRV { COMP=$COMP PATH=$VW_BIN:$PATH exec bash --norc --noprofile "$VW_TMP/drive.sh" "$VW_TMP/stderr"; }
VW_BG_PIDS+=("$DRV_PID")
DRV_IN=${DRV[1]} DRV_OUT=${DRV[0]}

# comp LINE [AFTER]: the candidates, on one line, blank-separated; the
# completion's stderr is kept and checked at the end.
comp() {
	local l out=
	printf '%s\0%s\0%s\0' "$VWIRE_SOCKET" "$1" "${2-}" >&"$DRV_IN"
	while IFS= read -r l <&"$DRV_OUT"; do
		[[ $l == $'\x1e' ]] && break
		out+="$l "
	done
	printf '%s\n' "${out% }"
	[ ! -s "$VW_TMP/stderr" ] || sed "s|^|$1: |" "$VW_TMP/stderr" >>"$VW_TMP/stderr.all"
}

# words: its arguments sorted (as sort(1) does with LC_ALL=C), on one line,
# blank-separated.
words() {
	local -a w=()
	local x
	local -i i
	for x; do
		for ((i = ${#w[@]}; i > 0; i--)); do
			[[ ${w[i - 1]} > $x ]] || break
			w[i]=${w[i - 1]}
		done
		w[i]=$x
	done
	printf '%s\n' "${w[*]}"
}
# expect_comp DESC EXPECTED LINE [AFTER]
expect_comp() { expect_eq "$1" "$(words $2)" "$(comp "${@:3}")"; }

vw_start
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create zone $ZONE" vwadm create-zone $ZONE
check "create VNIC $VA in $ZONE" vwadm create-vnic -l $STUB -p zone=$ZONE $VA
check "create VNIC $VB" vwadm create-vnic -l $STUB $VB
check "add flow $FLOW on $VA" vwadm add-flow -l $VA -a transport=tcp $FLOW
check "address 10.200.77.1/24 on $VA" vwadm create-addr -a 10.200.77.1/24 $VA
check "create mirror $MIR (GRE to loopback)" vwadm create-mirror -l $VA -t gre:127.0.0.1 $MIR
check "create exporter $EXP (IPFIX to loopback)" vwadm create-exporter -T ipfix -a collector=127.0.0.1:4739 $EXP

log "---- vwadm: subcommands and options"
subs=$(vwadm --help | sed -n 's/^    \([a-z][a-z-]*\).*/\1/p')
expect_comp "vwadm <TAB>: every subcommand of vwadm --help, and help" "$subs help" "vwadm "
expect_comp "vwadm create-v<TAB>" "create-vnic create-vnm" "vwadm create-v"
expect_comp "vwadm help show-f<TAB>" "show-flow show-flowprop" "vwadm help show-f"
expect_comp "vwadm -<TAB>: the global options" "--help --socket" "vwadm -"
expect_comp "vwadm create-vnic -<TAB>" "-l -m -p -r -t -v" "vwadm create-vnic -"
expect_comp "vwadm show-aggr -<TAB>" "-L -o -p -x" "vwadm show-aggr -"
expect_comp "vwadm apply -<TAB>" "--prune -D -n" "vwadm apply -"
expect_comp "vwadm create-vnic -m <TAB>" "auto random" "vwadm create-vnic -m "
expect_comp "vwadm create-aggr -P L3,<TAB>" "L3,L2 L3,L4" "vwadm create-aggr -P L3,"
expect_comp "vwadm create-vnm -T <TAB>: the VNM types" "router nat lb firewall" "vwadm create-vnm -T "
expect_comp "vwadm create-tunnel -a local=10.0.0.1,<TAB>" \
	"local=10.0.0.1,remote= local=10.0.0.1,dstport=" "vwadm create-tunnel -a local=10.0.0.1,"

log "---- vwadm: names from the daemon"
expect_comp "vwadm create-vnic -l vwt5<TAB>: the etherstub, not the VNICs" "$STUB" "vwadm create-vnic -l vwt5"
expect_comp "vwadm delete-vnic <TAB>" "$VA $VB" "vwadm delete-vnic "
expect_comp "vwadm show-link vwt5<TAB>" "$STUB $VA $VB" "vwadm show-link vwt5"
expect_comp "vwadm delete-etherstub <TAB>" "$STUB" "vwadm delete-etherstub "
expect_comp "vwadm delete-zone vwt5<TAB>" "$ZONE" "vwadm delete-zone vwt5"
expect_comp "vwadm remove-flow <TAB>" "$FLOW" "vwadm remove-flow "
expect_comp "vwadm show-flow -l vwt5a<TAB>" "$VA" "vwadm show-flow -l vwt5a"
expect_comp "vwadm delete-mirror <TAB>" "$MIR" "vwadm delete-mirror "
expect_comp "vwadm delete-exporter <TAB>" "$EXP" "vwadm delete-exporter "
expect_comp "vwadm create-mirror -l $VA,<TAB>: a list of links" "$VA,$STUB $VA,$VB" "vwadm create-mirror -l $VA,"
expect_comp "vwadm create-mirror -t vwt5<TAB>" "$STUB $VA $VB" "vwadm create-mirror -t vwt5"
expect_comp "vwadm create-vnm -l $VA,<TAB>: VNICs only" "$VA,$VB" "vwadm create-vnm -l $VA,"
expect_comp "vwadm delete-addr -a <TAB> $VA: its addresses" "10.200.77.1/24" "vwadm delete-addr -a " " $VA"
expect_comp "vwadm set-linkprop -p mtu=1400 <TAB>" "$STUB $VA $VB" "vwadm set-linkprop -p mtu=1400 "
expect_comp "vwadm create-vnic -l $STUB -p zone=vwt5<TAB>: zone names" "zone=$ZONE" "vwadm create-vnic -l $STUB -p zone=vwt5"
expect_comp "... after another property and a comma" "mtu=1400,zone=$ZONE" "vwadm create-vnic -p mtu=1400,zone="

log "---- vwadm: properties and their values"
vnicprops=$(vwadm show-linkprop -c -o property $VA)
expect_comp "vwadm create-vnic -p <TAB>: the daemon's properties of a VNIC" \
	"$(sed 's/$/=/' <<<"$vnicprops")" "vwadm create-vnic -p "
create_only="face vhost-socket vhost-mode"
settable=$(grep -vxF -f <(tr ' ' '\n' <<<"$create_only") <<<"$vnicprops")
expect_comp "vwadm set-linkprop -p <TAB> $VA: those of a VNIC, less the create-time ones" \
	"$(sed 's/$/=/' <<<"$settable")" "vwadm set-linkprop -p " " $VA"
expect_comp "vwadm set-linkprop -p <TAB> $STUB: those of an etherstub" \
	"$(vwadm show-linkprop -c -o property $STUB | sed 's/$/=/')" "vwadm set-linkprop -p " " $STUB"
expect_comp "vwadm reset-linkprop -p pri<TAB> $VA" "priority" "vwadm reset-linkprop -p pri" " $VA"
expect_comp "vwadm create-vnic -p fa<TAB>" "face=" "vwadm create-vnic -p fa"
for p in face priority protection vhost-mode; do
	possible=$(vwadm show-linkprop -c -o possible -p $p $VA | tr ',' ' ')
	expect_comp "vwadm create-vnic -p $p=<TAB>: POSSIBLE of show-linkprop" \
		"$(printf "$p=%s " $possible)" "vwadm create-vnic -p $p="
done
expect_comp "vwadm create-vnic -p zone=$ZONE,pri<TAB>" "zone=$ZONE,priority=" "vwadm create-vnic -p zone=$ZONE,pri"
expect_comp "vwadm set-linkprop -p protection=mac-nospoof,ip<TAB>: a list property's next value" \
	"protection=mac-nospoof,ip-nospoof" "vwadm set-linkprop -p protection=mac-nospoof,ip"
expect_comp "vwadm create-vnic -p maxbw=<TAB>: nothing" "" "vwadm create-vnic -p maxbw="
expect_comp "vwadm create-vnic -p vhost-socket=$VW_TMP/dri<TAB>: a file" "vhost-socket=$VW_TMP/drive.sh" \
	"vwadm create-vnic -p vhost-socket=$VW_TMP/dri"
flowprops=$(vwadm show-flowprop -c -o property $FLOW)
expect_comp "vwadm set-flowprop -p <TAB>: the daemon's flow properties" \
	"$(sed 's/$/=/' <<<"$flowprops")" "vwadm set-flowprop -p "
for p in priority fairness; do
	possible=$(vwadm show-flowprop -c -o possible -p $p $FLOW | tr ',' ' ')
	expect_comp "vwadm add-flow -p $p=<TAB>: POSSIBLE of show-flowprop" \
		"$(printf "$p=%s " $possible)" "vwadm add-flow -l $VA -p $p="
done
attrs=$(grep -o '{ "[a-z_]*", VW_FA_' "$VW_ROOT/lib/flow.c" | sed 's/{ "\(.*\)", VW_FA_/\1/' | sort -u)
expect_ge "flow attributes found in lib/flow.c" "$(wc -w <<<"$attrs")" 6
expect_comp "vwadm add-flow -a <TAB>: the attributes of lib/flow.c" "$(sed 's/$/=/' <<<"$attrs")" "vwadm add-flow -a "
expect_comp "vwadm add-flow -a transport=<TAB>" \
	"transport=tcp transport=udp transport=sctp transport=icmp transport=icmpv6" "vwadm add-flow -a transport="
# the link classes' properties and the VNM types' from the sources
for c in phys aggr tunnel; do
	want=$(sed -n "s/.*${c}_props_taken\[\] = { \(.*\) };.*/\1/p" "$VW_ROOT/objects/$c.c" | tr -d '",' | sed 's/ NULL//')
	got=$(bash -c ". '$COMP/vwadm'; echo \$_vwire_linkprops_$c")
	expect_eq "the completion's properties of a $c link are those of objects/$c.c" "$(words $want)" "$(words $got)"
done
for t in router nat lb firewall; do
	T=$(tr a-z A-Z <<<"$t")
	want=$(sed -n "s/.*\[VNM_P_[A-Z]*\] = { \"\([a-z]*\)\", \([^,]*\),.*/\1 \2/p" "$VW_ROOT/objects/vnm_prop.c" |
		awk -v T="VNM_$T" '$2 == "ALL" || index($2, "T(" T ")") { print $1 }')
	expect_comp "vwadm create-vnm -T $t -p <TAB>: the properties of objects/vnm_prop.c" \
		"$(sed 's/$/=/' <<<"$want")" "vwadm create-vnm -T $t -l $VA -p "
done
lists=$(sed -n 's/.*linkprop_lists\[\] = { \(.*\) };.*/\1/p' "$VW_ROOT/objects/linkprop.c" | tr -d '",' | sed 's/ NULL//')
expect_eq "the completion's list properties are those of objects/linkprop.c" "$(words $lists)" \
	"$(words $(bash -c ". '$COMP/vwadm'; echo \$_vwire_linkprops_lists"))"

log "---- vwadm: fields"
for s in show-link show-vnic show-etherstub show-zone show-flow show-mirror show-exporter; do
	header=$(vwadm $s -o all | head -1 | tr A-Z a-z)
	expect_comp "vwadm $s -o <TAB>: the columns of $s -o all, and all" "$header all" "vwadm $s -o "
done
expect_comp "vwadm show-link -o link,<TAB>: after a comma" \
	"link,class link,mtu link,state link,over link,zone" "vwadm show-link -o link,"
expect_comp "vwadm show-aggr -x -o po<TAB>: the -x view's fields" "port portstate" "vwadm show-aggr -x -o po"

log "---- vwadm: files and sockets"
printf 'create-etherstub vwt5x\n' >"$VW_TMP/vwt5-net.vwire"
expect_comp "vwadm apply $VW_TMP/vwt5-n<TAB>" "$VW_TMP/vwt5-net.vwire" "vwadm apply -n $VW_TMP/vwt5-n"
expect_comp "vwadm export -o $VW_TMP/vwt5-n<TAB>" "$VW_TMP/vwt5-net.vwire" "vwadm export -o $VW_TMP/vwt5-n"
expect_comp "vwadm --socket=$VW_SOCK... <TAB>: the socket file" "--socket=$VW_SOCK" "vwadm --socket=${VW_SOCK%.sock}.so"
expect_comp "vwadm --socket $NOSOCK delete-vnic <TAB>: --socket is asked, not \$VWIRE_SOCKET" "" \
	"vwadm --socket $NOSOCK delete-vnic "
expect_eq "VWIRE_SOCKET=$NOSOCK vwadm --socket $VW_SOCK delete-vnic <TAB>: the daemon of --socket" \
	"$(words $VA $VB)" "$(VWIRE_SOCKET=$NOSOCK comp "vwadm --socket $VW_SOCK delete-vnic ")"
expect_eq "... and of --socket=" "$(words $VA $VB)" "$(VWIRE_SOCKET=$NOSOCK comp "vwadm --socket=$VW_SOCK delete-vnic ")"

log "---- the option placeholders of vwadm --help are all known"
unknown=$(PATH=$VW_BIN:$PATH bash -c ". '$COMP/vwadm'
	declare -A _vwire_arg
	words=(vwadm) cword=1
	_vwire_prog vwadm; _vwadm_load
	for s in \"\${_vwadm_subs[@]}\"; do
		_vwire_parse \"\${_vwadm_usage[\$s]}\"
		for o in \"\${_vwire_opts[@]}\"; do
			ph=\${_vwire_arg[\$o]}
			[[ -z \$ph ]] && continue
			_vwadm_argkind \"\$ph\"
			[[ -n \$REPLY ]] || echo \"\$s \$o \$ph\"
		done
	done")
expect_eq "every option's argument of every subcommand has a completion rule" "" "$unknown"
nopts=$(vwadm --help | grep -o ' \[*-[A-Za-z]' | wc -l)
expect_ge "options seen in vwadm --help" "$nopts" 60

log "---- vwstat and vwsnoop"
expect_comp "vwstat show-h<TAB>" "show-history" "vwstat show-h"
expect_comp "vwstat vwt5<TAB>: links of the default show-link" "$STUB $VA $VB" "vwstat vwt5"
expect_comp "vwstat show-flow <TAB>" "$FLOW" "vwstat show-flow "
expect_comp "vwstat show-flow -<TAB>" "--help --socket -F -c -i -l -o -p -u" "vwstat show-flow -"
expect_comp "vwstat -o link,ip<TAB>" "link,ipkts" "vwstat -o link,ip"
expect_comp "vwstat -w -o <TAB>: the worker fields" \
	"$(vwstat --help | sed -n 's/^worker fields: //p' | tr A-Z a-z) all" "vwstat -w -o "
expect_comp "vwstat show-history -F <TAB>" "csv gnuplot json svg table" "vwstat show-history -F "
expect_comp "vwstat show-history -f $VW_TMP/vwt5-n<TAB>" "$VW_TMP/vwt5-net.vwire" "vwstat show-history -f $VW_TMP/vwt5-n"
expect_comp "vwsnoop -<TAB>" "--help --socket -c -d -l -w" "vwsnoop -"
expect_comp "vwsnoop -l vwt5<TAB>" "$STUB $VA $VB" "vwsnoop -l vwt5"
expect_comp "vwsnoop --socket $NOSOCK -l vwt5<TAB>: nothing" "" "vwsnoop --socket $NOSOCK -l vwt5"
expect_comp "vwsnoop -d <TAB>" "both in out" "vwsnoop -d "
expect_comp "vwsnoop -w $VW_TMP/vwt5-n<TAB>" "$VW_TMP/vwt5-net.vwire" "vwsnoop -w $VW_TMP/vwt5-n"

log "---- no daemon: no names, no message, no wait"
t0=$(_now_ms)
VWIRE_SOCKET=$NOSOCK expect_comp "VWIRE_SOCKET=$NOSOCK vwadm show-li<TAB>: the subcommands still complete" "show-link show-linkprop" "vwadm show-li"
t1=$(_now_ms)
out=$(VWIRE_SOCKET=$NOSOCK comp "vwadm delete-vnic ")
t2=$(_now_ms)
expect_eq "VWIRE_SOCKET=$NOSOCK vwadm delete-vnic <TAB>: nothing" "" "$out"
expect_eq "... and nothing on stderr" "" "$(cat "$VW_TMP/stderr")"
log "     a completion without names took $((t1 - t0)) ms, one that asked for names of no daemon $((t2 - t1)) ms"
expect_ge "asking no daemon added less than 1.5 s (no 2-s timeout waited for)" $((1500 - (t2 - t1) + (t1 - t0))) 1
out=$(VWIRE_SOCKET=$NOSOCK comp "vwstat ")
expect_eq "VWIRE_SOCKET=$NOSOCK vwstat <TAB>: the subcommands only" "$(words show-link show-flow show-aggr show-history)" "$out"
expect_eq "VWIRE_SOCKET=$NOSOCK vwadm create-vnic -p zone=<TAB>: nothing" "" \
	"$(VWIRE_SOCKET=$NOSOCK comp "vwadm create-vnic -p zone=")"

log "---- a real bash with bash-completion, files loaded by name"
if [ -r /usr/share/bash-completion/bash_completion ]; then
	# an installed layout: PREFIX/share/bash-completion/completions and
	# PREFIX/sbin, the programs not in PATH (as for a user without sbin)
	pfx=$VW_TMP/prefix
	mkdir -p "$pfx/share/bash-completion/completions" "$pfx/sbin"
	cp "$COMP/vwadm" "$COMP/vwstat" "$COMP/vwsnoop" "$pfx/share/bash-completion/completions/"
	for b in vwadm vwstat vwsnoop; do ln -sf "$VW_BIN/$b" "$pfx/sbin/$b"; done
	cat >"$VW_TMP/rc" <<-EOF
		PS1='$ '
		. /usr/share/bash-completion/bash_completion
		bind 'set bell-style none'
		bind 'set enable-bracketed-paste off'
	EOF
	# each line: TYPED<TAB>, then (once the terminal is quiet) Ctrl-A echo
	# "@N@[ ... ]" Enter prints the line as completed
	BASH_COMPLETION_USER_DIR=$pfx/share/bash-completion XDG_DATA_DIRS=$pfx/share:/usr/share PATH=/usr/bin:/bin python3 - "$VW_TMP/rc" "$VW_TMP/tty.out" \
		"vwadm create-vnic -p fa" "vwadm create-vnic -p face=vh" "vwadm create-vnic -l vwt5s -p zone=vwt5" \
		"vwadm show-link -o link,cl" "vwstat show-hi" "vwsnoop -d bo" "vwadm apply $VW_TMP/vwt5-n" <<-'PY'
		import os, pty, re, select, sys, time
		rc, outf, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
		pid, fd = pty.fork()
		if pid == 0:
		    os.execvp("bash", ["bash", "--noprofile", "--rcfile", rc, "-i"])
		buf = b""
		def read(until=None, quiet=None, secs=15):
		    # until a regex matches what came after `start`, or output is quiet
		    global buf
		    start, end, last = len(buf), time.time() + secs, time.time()
		    while time.time() < end:
		        if until is not None and re.search(until, buf[start:]):
		            return
		        if quiet is not None and time.time() - last >= quiet:
		            return
		        r, _, _ = select.select([fd], [], [], 0.05)
		        if r:
		            try:
		                buf += os.read(fd, 65536)
		            except OSError:
		                return
		            last = time.time()
		read(until=rb"\$ $")
		for i, l in enumerate(lines):
		    os.write(fd, l.encode() + b"\t")
		    read(quiet=0.5)
		    mark = b"@%d@" % i
		    os.write(fd, b"\x01echo \"" + mark + b"[\x05]\"\r")
		    read(until=rb"\n[^\n]*" + mark + rb"\[[^\n]*\n[\s\S]*\$ $")
		os.write(fd, b"exit\r")
		read(quiet=0.5, secs=3)
		open(outf, "wb").write(buf)
		PY
	tty() { tr -d '\r' <"$VW_TMP/tty.out" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | sed -n "s/^@$1@\[\(.*\)\]\$/\1/p"; }
	env_note="(XDG_DATA_DIRS=$pfx/share, PATH without the programs)"
	log "     $env_note"
	expect_eq "bash: vwadm create-vnic -p fa<TAB>" "vwadm create-vnic -p face=" "$(tty 0)"
	expect_eq "bash: vwadm create-vnic -p face=vh<TAB>" "vwadm create-vnic -p face=vhost-user " "$(tty 1)"
	expect_eq "bash: vwadm create-vnic -l $STUB -p zone=vwt5<TAB>" "vwadm create-vnic -l $STUB -p zone=$ZONE " "$(tty 2)"
	expect_eq "bash: vwadm show-link -o link,cl<TAB>" "vwadm show-link -o link,class " "$(tty 3)"
	expect_eq "bash: vwstat show-hi<TAB> (vwstat's file loaded by name, vwadm's beside it)" "vwstat show-history " "$(tty 4)"
	expect_eq "bash: vwsnoop -d bo<TAB>" "vwsnoop -d both " "$(tty 5)"
	expect_eq "bash: vwadm apply $VW_TMP/vwt5-n<TAB>" "vwadm apply $VW_TMP/vwt5-net.vwire " "$(tty 6)"
else
	log "---- bash-completion is not installed (scripts/install-deps.sh installs it): real-bash checks skipped"
fi

expect_eq "no completion wrote to stderr" "" "$(cat "$VW_TMP/stderr.all")"
