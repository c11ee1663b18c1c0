// What the demo fleet (local/scenarios/demo.json) must produce; shared by the e2e, alerting and browser tests.

/** docs/scenarios.md's demo table: what each simulated device must end in. */
export const EXPECTED_DEMO_EXIT_CODES: Record<string, number> = {
  "WIN-SERVER01": 0,
  "FAB-SQL01": 220, // SQL stops after the reboot
  "FAB-WEB01": 220, // WebApp/home breaks at once
  "FAB-APP01": 210, // KB5012346 fails 0x80070643
  "fab-lnx01": 0,
  fabwebvm000000: 0,
  fabwebvm000001: 210, // KB5012345 rolls back at the reboot
  fabwebvm000002: 0,
  "ADT-DC01": 150, // reboot required under a Never policy
  "ADT-FS01": 240, // agent disconnected: nothing sent, the failure record says why
  "ADT-PRINT01": 170, // another run holds the lock
  "adt-lnx-db01": 0,
  "adt-lnx-web01": 0,
  "TSP-RDS01": 150, // reboot loop
  "TSP-APP01": 0, // hostile catalog titles stored as data
  "tsp-lnx01": 0,
  tspapi000000: 0,
  tspapi000001: 0, // agent lost mid-install, result arrives late
  tspapi000002: 0,
  "WNG-SQL01": 0, // a check already failing before: pre-existing, not a regression
  "WNG-WEB01": 0,
  "wng-lnx01": 230, // hardcontent (issue 21): required diagnostics fail, system disk below the policy's 10% free
  "wng-lnx02": 0,
  "wng-lnx03": 0,
};
