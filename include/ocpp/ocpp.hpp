#pragma once
// Everything a user needs: client, server, sessions, frames and errors.
#include "ocpp/client/client.hpp"
#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/server/server.hpp"
#include "ocpp/session/session.hpp"
#include "ocpp/transport/io_pool.hpp"
