# The clients' host of examples/consolidate (the paper's §5.1): two clients
# of each former subnet, VLAN 10 for subnet A's and VLAN 20 for subnet B's,
# over an aggregation of the two links to the data centre host.  The
# clients of both VLANs have the same addresses, .11 and .12.
#   vwadm apply -D P=vwc -D L0=vwce0 -D L1=vwce1 edge.vw
# ${P}: a prefix of every name; ${L0}, ${L1}: the host's two links.

create-aggr -P L2 -L active -T short -l ${L0} -l ${L1} ${P}ag

# subnet A's clients: VLAN 10
create-zone ${P}cl10a
create-vnic -l ${P}ag -v 10 -m 02:5e:10:00:00:11 -p zone=${P}cl10a ${P}c10a
create-addr -a 192.168.10.11/24 ${P}c10a
create-zone ${P}cl10b
create-vnic -l ${P}ag -v 10 -m 02:5e:10:00:00:12 -p zone=${P}cl10b ${P}c10b
create-addr -a 192.168.10.12/24 ${P}c10b

# subnet B's clients: VLAN 20, the same addresses
create-zone ${P}cl20a
create-vnic -l ${P}ag -v 20 -m 02:5e:20:00:00:11 -p zone=${P}cl20a ${P}c20a
create-addr -a 192.168.10.11/24 ${P}c20a
create-zone ${P}cl20b
create-vnic -l ${P}ag -v 20 -m 02:5e:20:00:00:12 -p zone=${P}cl20b ${P}c20b
create-addr -a 192.168.10.12/24 ${P}c20b
