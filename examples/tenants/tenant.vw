# One tenant of the multi-tier case (the paper's §5.2, see README.md):
# web, app and DB tiers, each a zone on an etherstub of its own, joined
# by a router VNM; the DB zone also on a storage etherstub with a storage
# server, which the router does not reach.
#
#   vwadm apply -D T=a -D APPCPU=1 tenant.vw     # tenant a
#   vwadm apply -D T=b -D APPCPU=1 tenant.vw     # tenant b: same addresses
#
# ${T} prefixes every name (keep it to 5 characters: names are at most 15);
# the addresses are the same for every tenant.  ${APPCPU} is the CPU that
# processes what the app tier's VNIC sends (link property cpus).
#
#   tier      etherstub     zone         VNIC         address
#   web       ${T}webnet    ${T}web      ${T}web0     10.1.1.10/24
#   app       ${T}appnet    ${T}app      ${T}app0     10.1.2.10/24
#   db        ${T}dbnet     ${T}db       ${T}db0      10.1.3.10/24
#   storage   ${T}stornet   ${T}db       ${T}db1      10.1.9.10/24
#                           ${T}stor     ${T}stor0    10.1.9.20/24
#   router    (each tier)   ${T}rt       ${T}rt0..2   10.1.{1,2,3}.1/24

# the four virtual switches: one per tier, and the storage link
create-etherstub ${T}webnet
create-etherstub ${T}appnet
create-etherstub ${T}dbnet
create-etherstub ${T}stornet

# the tiers' zones and their VNICs
create-zone ${T}web
create-vnic -l ${T}webnet -p zone=${T}web ${T}web0
create-addr -a 10.1.1.10/24 ${T}web0

create-zone ${T}app
create-vnic -l ${T}appnet -p zone=${T}app,cpus=${APPCPU} ${T}app0
create-addr -a 10.1.2.10/24 ${T}app0

create-zone ${T}db
create-vnic -l ${T}dbnet -p zone=${T}db ${T}db0
create-addr -a 10.1.3.10/24 ${T}db0
create-vnic -l ${T}stornet -p zone=${T}db ${T}db1
create-addr -a 10.1.9.10/24 ${T}db1

# the storage server: on the storage link only
create-zone ${T}stor
create-vnic -l ${T}stornet -p zone=${T}stor ${T}stor0
create-addr -a 10.1.9.20/24 ${T}stor0

# the router VNM: a VNIC on each tier's etherstub, none on the storage link
create-zone ${T}rt
create-vnic -l ${T}webnet -p zone=${T}rt ${T}rt0
create-addr -a 10.1.1.1/24 ${T}rt0
create-vnic -l ${T}appnet -p zone=${T}rt ${T}rt1
create-addr -a 10.1.2.1/24 ${T}rt1
create-vnic -l ${T}dbnet -p zone=${T}rt ${T}rt2
create-addr -a 10.1.3.1/24 ${T}rt2
create-vnm -T router -l ${T}rt0,${T}rt1,${T}rt2 ${T}rt
