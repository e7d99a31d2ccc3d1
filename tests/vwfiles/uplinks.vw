# An aggregation of two links with a VNIC in a VLAN over it, the properties
# of a phys link, and a VXLAN tunnel with a VNIC over it.
create-aggr -l ${L1} -l ${L2} -L active -T long ${P}ag
set-linkprop -p maxbw=1G ${P}ag
create-vnic -l ${P}ag -m 02:08:20:00:02:01 -v 10 ${P}va
set-linkprop -p maxbw=500M,cpus=0 ${L3}
create-vnic -l ${L3} -m 02:08:20:00:02:02 ${P}vp
create-tunnel -T vxlan -a local=${LOCAL},remote=${REMOTE} -p vni=4242 ${P}tn
create-vnic -l ${P}tn -m 02:08:20:00:02:03 ${P}vt
