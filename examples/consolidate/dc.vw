# The consolidated data centre host of examples/consolidate (the paper's
# §5.1): two servers that used to be alone on two subnets numbered alike,
# now zones on one host, kept apart by VLANs 10 and 20 over one aggregation
# of two links.  Both servers keep their address, 192.168.10.1.
#   vwadm apply -D P=vwc -D L0=vwcd0 -D L1=vwcd1 dc.vw
# ${P}: a prefix of every name; ${L0}, ${L1}: the host's two links.

# the two links as one: LACP active with short timers, frames spread over
# the links by their MAC addresses (each client and server pair keeps to one)
create-aggr -P L2 -L active -T short -l ${L0} -l ${L1} ${P}ag

# the server of the former subnet A: VLAN 10
create-zone ${P}srv10
create-vnic -l ${P}ag -v 10 -m 02:5e:10:00:00:01 -p zone=${P}srv10 ${P}s10
create-addr -a 192.168.10.1/24 ${P}s10

# the server of the former subnet B: VLAN 20, the same address
create-zone ${P}srv20
create-vnic -l ${P}ag -v 20 -m 02:5e:20:00:00:01 -p zone=${P}srv20 ${P}s20
create-addr -a 192.168.10.1/24 ${P}s20
