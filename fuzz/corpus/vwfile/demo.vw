# a network in a box: one etherstub, two VLANs
create-etherstub stub0
create-zone z1
create-zone z2
create-vnic -l stub0 -v 100 \
	-p maxbw=100M,priority=high vnic1
create-vnic -l ${LINK} -m "02:08:20:00:00:02" -v 200 'vnic2'
create-addr -a 10.88.0.1/24 vnic1   # zone z1
set-linkprop -p zone=z1 vnic1
add-flow -l vnic1 -a transport=tcp,local_port=80 -p maxbw=10M http1
