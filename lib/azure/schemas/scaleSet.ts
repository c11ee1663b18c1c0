import { z } from "zod";
import { ArmTagsSchema } from "./hybridMachine";

const OsDiskSchema = z.object({ osDisk: z.object({ osType: z.string().nullish() }).nullish() }).nullish();

/** A VM scale set (`Microsoft.Compute/virtualMachineScaleSets`), as listed. */
export const ScaleSetSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  type: z.string().nullish(),
  tags: ArmTagsSchema,
  sku: z.object({ name: z.string().nullish(), capacity: z.number().nullish() }).nullish(),
  properties: z
    .object({
      provisioningState: z.string().nullish(),
      virtualMachineProfile: z
        .object({
          osProfile: z.object({ computerNamePrefix: z.string().nullish() }).nullish(),
          storageProfile: OsDiskSchema,
        })
        .nullish(),
    })
    .nullish(),
});
export type ScaleSet = z.infer<typeof ScaleSetSchema>;

/** A page of scale sets. */
export const ScaleSetListSchema = z.object({ value: z.array(ScaleSetSchema), nextLink: z.string().nullish() });

/** One status entry of an instance view (`code`, `displayStatus`, ...). */
export const InstanceViewStatusSchema = z.object({
  code: z.string().nullish(),
  level: z.string().nullish(),
  displayStatus: z.string().nullish(),
  message: z.string().nullish(),
  time: z.string().nullish(),
});

/**
 * A Compute VM's instance view (`GET .../virtualMachines/{vm}/instanceView`, `.../virtualMachineScaleSets/{s}/
 * virtualMachines/{id}/instanceView`, or a listing's `$expand=instanceView`): the VM agent's readiness stands in
 * for Arc's agent status.
 */
export const VmInstanceViewSchema = z.object({
  computerName: z.string().nullish(),
  osName: z.string().nullish(),
  osVersion: z.string().nullish(),
  vmAgent: z
    .object({ vmAgentVersion: z.string().nullish(), statuses: z.array(InstanceViewStatusSchema).nullish() })
    .nullish(),
  statuses: z.array(InstanceViewStatusSchema).nullish(),
});
export type VmInstanceView = z.infer<typeof VmInstanceViewSchema>;

/** One VMSS instance (`.../virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`), as listed. */
export const ScaleSetVmSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  instanceId: z.string().min(1),
  location: z.string().min(1),
  type: z.string().nullish(),
  tags: ArmTagsSchema,
  properties: z
    .object({
      provisioningState: z.string().nullish(),
      osProfile: z.object({ computerName: z.string().nullish() }).nullish(),
      storageProfile: OsDiskSchema,
      /** Present with `$expand=instanceView`: the VM agent's readiness stands in for Arc's agent status. */
      instanceView: VmInstanceViewSchema.nullish(),
    })
    .nullish(),
});
export type ScaleSetVm = z.infer<typeof ScaleSetVmSchema>;

/** A page of VMSS instances. */
export const ScaleSetVmListSchema = z.object({ value: z.array(ScaleSetVmSchema), nextLink: z.string().nullish() });
