/* api_people: the contact page and what staff may edit about a person
 * (name, RT, RW, notes), the categories in use for the list filter, and
 * disabling a staff account (the admin page). */
#ifndef SIMPUL_API_PEOPLE_H
#define SIMPUL_API_PEOPLE_H

struct app;

int api_people_routes(struct app *app);

#endif
