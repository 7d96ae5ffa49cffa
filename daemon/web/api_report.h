/* api_report: GET /api/v1/reports?month=YYYY-MM (JSON for the reports
 * page) and GET /api/v1/reports/csv?month=YYYY-MM (the same tables as one
 * CSV file, for the monthly report to the camat). */
#ifndef SIMPUL_API_REPORT_H
#define SIMPUL_API_REPORT_H

struct app;

int api_report_routes(struct app *app);

#endif
