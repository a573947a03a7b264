package server

// WriteTestPKI writes ca.pem, server.pem/.key (for 127.0.0.1) and
// client.pem/.key into dir, for the process tests.
var WriteTestPKI = writeTestPKI
