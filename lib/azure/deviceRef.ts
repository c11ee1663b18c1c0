// The device types are shared with lib/domain and the orchestrators, so their schemas live in lib/schemas.
export { AgentStatusSchema, DeviceRefSchema, type AgentStatus, type DeviceRef } from "../schemas/target";
