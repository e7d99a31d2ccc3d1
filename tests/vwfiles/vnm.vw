# Virtual network machines between two etherstubs: a router with static
# routes, a NAT, a load balancer and a firewall, each in a zone of its own.
create-etherstub ${P}s1
create-etherstub ${P}s2
create-zone ${P}r
create-vnic -l ${P}s1 -m 02:08:20:00:03:01 -p zone=${P}r ${P}r1
create-vnic -l ${P}s2 -m 02:08:20:00:03:02 -p zone=${P}r ${P}r2
create-addr -a 10.206.1.1/24 ${P}r1
create-addr -a fd00:206:1::1/64 ${P}r1
create-addr -a 10.206.2.1/24 ${P}r2
create-vnm -T router -l ${P}r1,${P}r2 \
    -p route=10.206.9.0/24@10.206.2.9+default@10.206.1.254 ${P}r
create-zone ${P}n
create-vnic -l ${P}s1 -m 02:08:20:00:03:03 -p zone=${P}n ${P}n1
create-vnic -l ${P}s2 -m 02:08:20:00:03:04 -p zone=${P}n ${P}n2
create-addr -a 10.206.1.2/24 ${P}n1
create-addr -a 10.206.2.2/24 ${P}n2
create-vnm -T nat -l ${P}n1,${P}n2 -p inside=${P}n1,outside=${P}n2 ${P}n
create-zone ${P}l
create-vnic -l ${P}s1 -m 02:08:20:00:03:05 -p zone=${P}l ${P}l1
create-vnic -l ${P}s2 -m 02:08:20:00:03:06 -p zone=${P}l ${P}l2
create-addr -a 10.206.1.3/24 ${P}l1
create-addr -a 10.206.2.3/24 ${P}l2
create-vnm -T lb -l ${P}l1,${P}l2 \
    -p vip=10.206.1.3:80,backends=10.206.2.10:8080+10.206.2.11:8080,algo=hash,check=none ${P}l
create-zone ${P}f
create-vnic -l ${P}s1 -m 02:08:20:00:03:07 -p zone=${P}f ${P}f1
create-vnic -l ${P}s2 -m 02:08:20:00:03:08 -p zone=${P}f ${P}f2
create-addr -a 10.206.1.4/24 ${P}f1
create-addr -a 10.206.2.4/24 ${P}f2
create-vnm -T firewall -l ${P}f1,${P}f2 -p allow=transport=tcp+local_port=80,allow=transport=icmp ${P}f
set-vnmprop -p deny=transport=tcp+local_port=80+remote_ip=10.206.1.0/28,policy=deny ${P}f
