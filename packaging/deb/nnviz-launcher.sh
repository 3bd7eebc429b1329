#!/bin/sh
# /usr/bin/nnviz: the bundle lives in /opt/nnviz (it finds its libraries beside itself).
exec /opt/nnviz/nnviz "$@"
