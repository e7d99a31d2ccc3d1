# The paper's third example (§5.3): "try before deployment, then scale out".
# Host "a" of examples/webfarm/run.sh: clients on a virtual switch of their
# own, a load balancer VNM (NAT in front of two web servers) and the two web
# servers over a physical link, ${UP}, so that a server can later move to
# another host on the same Ethernet segment without renumbering.
#   vwadm apply -D P=vww -D UP=vwwup -D HIST=/tmp/history.db examples/webfarm/webfarm.vw
# Every name starts with ${P} (at most 15 characters in all); ${HIST} is the
# accounting history file (an absolute path).

# the accounting history, sampled every second: vwstat show-history
start-accounting -i 1 -f ${HIST}

# the client side: an etherstub and two client zones
create-etherstub ${P}cs
create-zone ${P}c1
create-zone ${P}c2
create-vnic -l ${P}cs -p zone=${P}c1 ${P}c1v
create-vnic -l ${P}cs -p zone=${P}c2 ${P}c2v
create-addr -a 10.61.1.11/24 ${P}c1v
create-addr -a 10.61.1.12/24 ${P}c2v

# the load balancer: its client-side VNIC holds the virtual address (the
# vip), its server-side VNIC is on the servers' segment
create-zone ${P}lb
create-vnic -l ${P}cs -p zone=${P}lb ${P}lbc
create-vnic -l ${UP} -p zone=${P}lb ${P}lbs
create-addr -a 10.61.1.1/24 ${P}lbc
create-addr -a 10.61.2.1/24 ${P}lbs

# the web servers, over the physical link
create-zone ${P}w1
create-zone ${P}w2
create-vnic -l ${UP} -p zone=${P}w1 ${P}w1v
create-vnic -l ${UP} -p zone=${P}w2 ${P}w2v
create-addr -a 10.61.2.11/24 ${P}w1v
create-addr -a 10.61.2.12/24 ${P}w2v

# new TCP connections to 10.61.1.1:80 go to a live server, in turn; the
# servers see them come from the load balancer's 10.61.2.1
create-vnm -T lb -l ${P}lbc,${P}lbs \
	-p vip=10.61.1.1:80,backends=10.61.2.11:80+10.61.2.12:80,algo=rr,check=tcp ${P}lb
