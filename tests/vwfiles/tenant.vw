# One tenant: two zones on the tenant's own etherstub.  Applied once per
# tenant: -D T=NAME -D N=NUMBER (names with ${T}, addresses with ${N}).
create-zone ${T}web
create-zone ${T}db
create-etherstub ${T}net
create-vnic -l ${T}net -p zone=${T}web ${T}web0
create-vnic -l ${T}net -p zone=${T}db ${T}db0
create-addr -a 10.203.${N}.1/16 ${T}web0
create-addr -a 10.203.${N}.2/16 ${T}db0
