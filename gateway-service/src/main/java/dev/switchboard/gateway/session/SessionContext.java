package dev.switchboard.gateway.session;

import dev.switchboard.gateway.admission.AuthFailureLimiter;
import dev.switchboard.gateway.admission.EdgeAdmission;
import dev.switchboard.gateway.auth.ClientTokens;
import dev.switchboard.gateway.config.WebSocketProperties;
import dev.switchboard.gateway.fanout.Fanout;
import dev.switchboard.gateway.protocol.FrameCodec;
import dev.switchboard.gateway.rest.DeliveryClient;
import dev.switchboard.registryclient.RegistryClient;
import tools.jackson.databind.json.JsonMapper;

/** What every session works with: the gateway's shared collaborators. */
record SessionContext(WebSocketProperties properties, FrameCodec codec, ClientTokens tokens, RegistryClient registry,
                      DeliveryClient delivery, Fanout fanout, Sessions sessions, JsonMapper json,
                      EdgeAdmission admission, AuthFailureLimiter authFailures) {
}
