create-mirror -l vnic1 -f 'tcp port 80 and host 10.0.0.1' -t "${LINK}:${EMPTY}x" m1
x "it's" 'a\b' "a\"b\\c\$" ${SPACED} ${EMPTY} a\ b \# \
   continued# not a comment
create-zone "unterminated
create-zone ${UNDEFINED}
create-zone ${bad-name}
