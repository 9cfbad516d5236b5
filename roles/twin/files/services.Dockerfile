# kumo.webstack local twin: the services image (MariaDB for the database, Redis for the cache,
# HAProxy for the load balancer), derived from the test-host base image. Built once per recipe (the tag is a
# hash of this file and the base image reference); nothing is pulled from a registry.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client redis-server haproxy; \
    rm -f /usr/sbin/policy-rc.d; \
    apt-get clean; rm -rf /var/lib/apt/lists/*; \
    install -d -o mysql -g mysql -m 0755 /run/mysqld; \
    install -d -m 0755 /run/haproxy; \
    test -d /var/lib/mysql/mysql
