# Two zones on an etherstub, a VLAN, link properties, addresses and flows.
create-zone ${P}z1
create-zone ${P}z2
create-etherstub ${P}s0
create-vnic -l ${P}s0 -m 02:08:20:00:00:01 -p zone=${P}z1,maxbw=100,priority=high ${P}a
create-vnic -l ${P}s0 -m 02:08:20:00:00:02 -v 7 -p zone=${P}z2 ${P}b
# properties may come on lines of their own
set-linkprop -p mtu=1400 ${P}b
set-linkprop -p protection=mac-nospoof,ip-nospoof -p allowed-ips=10.201.0.2,fd00:201::/64 ${P}b
create-vnic -l ${P}s0 -m random -r 02:08:20:00:00:03 -p cpus=0 ${P}c
create-addr -a 10.201.0.1/24 ${P}a
create-addr -a fd00:201::1/64 ${P}a
create-addr -a 10.201.0.2/24 ${P}b
add-flow -l ${P}a -a transport=tcp,local_port=80 -p maxbw=10M,priority=low ${P}web
add-flow -l ${P}a -a transport=udp -p maxbw=5000K ${P}udp
set-flowprop -p fairness=conn ${P}udp
