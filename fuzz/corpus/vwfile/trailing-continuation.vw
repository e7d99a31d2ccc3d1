export


create-zone z9 \