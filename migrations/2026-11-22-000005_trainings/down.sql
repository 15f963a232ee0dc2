DROP TABLE training_attendance;
DROP TABLE trainings;
