#!/usr/bin/env bash
# Calls run one way: cli -> lib; control -> observability -> objects ->
# datapath -> lib.  Fails, naming each line, when a file of the daemon or of
# the library includes a header of a layer above its own, or when a file of
# cli/ includes anything but lib/ and cli/.  Run by tests/run.sh as one test.
set -u
cd "$(dirname "$0")/.."

rank() {   # the layer of a top-level directory; nothing for one not checked
	case $1 in
	lib) echo 0 ;; datapath) echo 1 ;; objects) echo 2 ;;
	observability) echo 3 ;; control) echo 4 ;; cli) echo 5 ;;
	esac
}

bad=0 files=0 includes=0
for f in lib/*.[ch] datapath/*.[ch] objects/*.[ch] observability/*.[ch] control/*.[ch] cli/*.[ch]; do
	[ -f "$f" ] || continue
	files=$((files + 1))
	dir=${f%%/*} mine=$(rank "${f%%/*}")
	while IFS=: read -r line dep hdr; do
		includes=$((includes + 1))
		theirs=$(rank "$dep")
		[ -n "$theirs" ] || continue
		if [ "$dir" = cli ]; then
			[ "$dep" = lib ] || [ "$dep" = cli ] && continue
		elif [ "$theirs" -le "$mine" ] && [ "$dep" != cli ]; then
			continue
		fi
		echo "$f:$line: includes $hdr: $dir/ may not use $dep/"
		bad=$((bad + 1))
	done < <(awk -F'"' '/^[ \t]*#[ \t]*include[ \t]*"[a-z_]+\// { d = $2; sub(/\/.*/, "", d); print FNR ":" d ":" $2 }' "$f")
done
if [ $bad -gt 0 ]; then
	echo "layers: $bad include(s) against the direction of calls (lib < datapath < objects < observability < control; cli: lib and cli only)"
	exit 1
fi
echo "layers: ok ($files files, $includes includes between layers' directories)"
