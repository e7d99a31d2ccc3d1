# Variables, continued lines, quotes and comments; accounting, a mirror
# and an exporter.
start-accounting -i 5 \
    -f ${TMP}/history.db   # a comment after a command
create-zone ${P}z1
create-etherstub "${P}s0"
create-vnic -l ${P}s0 -m 02:08:20:00:01:01 \
            -p zone=${P}z1 \
            ${P}a
create-vnic -l ${P}s0 -m 02:08:20:00:01:02 ${P}tap
create-mirror -l ${P}a -d in -f 'tcp port 80 and host 10.0.0.1' -t ${P}tap ${P}m
create-exporter -T ipfix -a collector=127.0.0.1:4739,idle=5 -l ${P}a ${P}x
