# What `cmake --install` puts where (default prefix /usr/local, as the
# systemd units in deploy/systemd expect). Two components:
#   bridge: the two daemons and the container health probe (what production runs)
#   tools:  clevertap-emulator and kafka-dev-broker (development, demos, tests)
include(GNUInstallDirs)
install(TARGETS talon-ingest clevertap-sink tcb-healthcheck
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bridge)
install(FILES config/example.yaml docs/operations.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/talon-clevertap-bridge COMPONENT bridge)
install(TARGETS clevertap-emulator kafka-dev-broker
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
